// Package api holds the wire types of the bpfhost daemon's control API:
// JSON documents exchanged over HTTP on a Unix socket (decision 0017). Both
// the daemon and its client (package remote) use them; the package has no
// dependencies, so a client does not pull the runtime in.
package api

import "encoding/json"

// Version is the control API's version, the first element of every path
// ("/v1/...").
const Version = "v1"

// Paths of the control API. Every request is a POST with a JSON body (GET
// for the lists), and every response is JSON: the documented result with
// status 200, or an Error with another status.
const (
	PathVersion    = "/" + Version + "/version"
	PathProgLoad   = "/" + Version + "/prog/load"
	PathProgList   = "/" + Version + "/prog/list"
	PathProgGet    = "/" + Version + "/prog/get"
	PathProgRun    = "/" + Version + "/prog/run"
	PathProgPin    = "/" + Version + "/prog/pin"
	PathProgDump   = "/" + Version + "/prog/dump"
	PathMapList    = "/" + Version + "/map/list"
	PathMapGet     = "/" + Version + "/map/get"
	PathMapLookup  = "/" + Version + "/map/lookup"
	PathMapUpdate  = "/" + Version + "/map/update"
	PathMapDelete  = "/" + Version + "/map/delete"
	PathMapNextKey = "/" + Version + "/map/getnext"
	PathMapDump    = "/" + Version + "/map/dump"
	PathMapPin     = "/" + Version + "/map/pin"
	PathMapFreeze  = "/" + Version + "/map/freeze"
	// PathMapEventPipe streams a ring buffer's records: the response is one
	// Event per line (JSON), until the client closes the connection.
	PathMapEventPipe = "/" + Version + "/map/event_pipe"
	PathUnpin        = "/" + Version + "/unpin"
)

// Error codes, the Code of an Error: what kind of failure, for clients that
// act on it (bpftool's errno names where one fits).
const (
	CodeInvalid     = "EINVAL" // malformed request or argument
	CodeNotFound    = "ENOENT" // no such object, pin or key
	CodeExists      = "EEXIST" // pin path or key already there
	CodePerm        = "EPERM"  // peer not allowed, or operation refused by policy
	CodeRejected    = "EACCES" // the verifier rejected the program
	CodeTooBig      = "E2BIG"  // a policy limit or a map's capacity
	CodeInternal    = "EIO"    // the daemon failed (persisting state, the verifier child)
	CodeNotSupp     = "ENOTSUP"
	CodeBusy        = "EBUSY"        // the map is already frozen, the device has a link
	CodeAgain       = "EAGAIN"       // the daemon's connections or body budget are used up: try again
	CodeNameTooLong = "ENAMETOOLONG" // a new pin's path beyond PATH_MAX, or an element beyond NAME_MAX
	CodeMalformed   = CodeInvalid
)

// Error is the body of every failed request.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"error"`
}

// VersionInfo answers PathVersion.
type VersionInfo struct {
	API    string `json:"api"`
	Engine string `json:"engine"` // "interp" or "jit": the daemon's default engine
	PID    int    `json:"pid"`
}

// Ref names a program or map as bpftool does: by ID, name or pin path.
// Exactly one field is set.
type Ref struct {
	ID     uint32 `json:"id,omitempty"`
	Name   string `json:"name,omitempty"`
	Pinned string `json:"pinned,omitempty"`
	// Tag names a program by its tag, 16 hexadecimal digits as bpftool
	// prints them (programs only).
	Tag string `json:"tag,omitempty"`
}

// LoadRequest loads the programs of an ELF object (PathProgLoad), as
// "bpftool prog load" and "prog loadall" do.
type LoadRequest struct {
	// Object is the ELF object's bytes.
	Object []byte `json:"object"`
	// Program names the program to load and pin at PinPath; empty means
	// the first program of the object. With All, every program is pinned
	// under PinPath as a directory, by name.
	Program string `json:"program,omitempty"`
	All     bool   `json:"all,omitempty"`
	// PinPath is where the program (or, with All, the directory of
	// programs) is pinned.
	PinPath string `json:"pin_path"`
	// Type overrides the type of the programs ("xdp", a section name).
	Type string `json:"type,omitempty"`
	// PinMaps, if set, is a directory under which every map of the object
	// is pinned by name.
	PinMaps string `json:"pinmaps,omitempty"`
	// ObjectName, if set, is the object file's name as libbpf names the
	// object (its base name up to the first dot: "config" for
	// config.o); the .data, .rodata, .bss and .kconfig maps are then
	// pinned under PinMaps as libbpf pins them ("config_rodata"), not by
	// their section names.
	ObjectName string `json:"object_name,omitempty"`
	// Maps replaces maps of the object by existing maps, as bpftool's
	// "map { idx IDX | name NAME } MAP": the programs use the existing
	// map, whose type, sizes and flags they are verified against (as
	// libbpf takes a reused map's), instead of a new one.
	Maps []MapReplacement `json:"maps,omitempty"`
}

// MapReplacement names a map of an object, by its index in libbpf's order
// (the maps of the .maps section, then the global data sections) or by its
// name, and the existing map that replaces it.
type MapReplacement struct {
	Idx  *int   `json:"idx,omitempty"`
	Name string `json:"name,omitempty"`
	Map  Ref    `json:"map"`
}

// LoadResult answers a LoadRequest.
type LoadResult struct {
	Programs []ProgInfo `json:"programs"`
	Maps     []MapInfo  `json:"maps"`
}

// ProgInfo describes a loaded program, with the fields of bpftool's JSON
// that have a true equivalent in bpfhost.
type ProgInfo struct {
	ID            uint32 `json:"id"`
	Type          string `json:"type"`
	Name          string `json:"name"`
	Tag           string `json:"tag"`
	GPLCompatible bool   `json:"gpl_compatible"`
	RunTimeNs     uint64 `json:"run_time_ns,omitempty"`
	RunCnt        uint64 `json:"run_cnt,omitempty"`
	LoadedAt      int64  `json:"loaded_at"`
	UID           uint32 `json:"uid"`
	BytesXlated   int    `json:"bytes_xlated"`
	Jited         bool   `json:"jited"`
	// BytesJited is the size of the program's machine code (the JIT's
	// shared entry and exit routines included); 0 when interpreted.
	BytesJited int      `json:"bytes_jited,omitempty"`
	MapIDs     []uint32 `json:"map_ids,omitempty"`
	Pinned     []string `json:"pinned,omitempty"`
}

// MapInfo describes a map, with the fields of bpftool's JSON.
type MapInfo struct {
	ID           uint32 `json:"id"`
	Type         string `json:"type"`
	Name         string `json:"name"`
	Flags        uint32 `json:"flags"`
	BytesKey     uint32 `json:"bytes_key"`
	BytesValue   uint32 `json:"bytes_value"`
	MaxEntries   uint32 `json:"max_entries"`
	BytesMemlock int64  `json:"bytes_memlock"`
	// OwnerProgType and OwnerJited describe, for a program array, the
	// programs it may hold: the type of the programs of its object that
	// use it, and whether they run compiled (Linux's owner program).
	OwnerProgType string   `json:"owner_prog_type,omitempty"`
	OwnerJited    *bool    `json:"owner_jited,omitempty"`
	Frozen        int      `json:"frozen"`
	PerCPU        int      `json:"-"`
	Pinned        []string `json:"pinned,omitempty"`
	// MemoryFile is the map memory file in the daemon's state directory
	// that holds the values of an array or per-CPU array; other processes
	// with access to it may map it read-only (maps.OpenMemory,
	// docs/map-memory.md). bpftool has no such field.
	MemoryFile string `json:"memory_file,omitempty"`
}

// ProgRequest names a program (PathProgGet).
type ProgRequest struct {
	Prog Ref `json:"prog"`
}

// RunRequest runs a program once or Repeat times (PathProgRun), as
// BPF_PROG_TEST_RUN does.
type RunRequest struct {
	Prog       Ref    `json:"prog"`
	DataIn     []byte `json:"data_in,omitempty"`
	CtxIn      []byte `json:"ctx_in,omitempty"`
	WantCtxOut bool   `json:"want_ctx_out,omitempty"`
	Repeat     uint32 `json:"repeat,omitempty"`
}

// RunResult answers a RunRequest.
type RunResult struct {
	Retval   uint32 `json:"retval"`
	Duration int64  `json:"duration"` // ns, the average of one repetition
	DataOut  []byte `json:"data_out,omitempty"`
	CtxOut   []byte `json:"ctx_out,omitempty"`
}

// PinRequest pins a program (PathProgPin) or map (PathMapPin) at Path.
type PinRequest struct {
	Ref  Ref    `json:"ref"`
	Path string `json:"path"`
}

// UnpinRequest removes the pin at Path (PathUnpin), as unlinking a bpffs
// file does: the object goes when nothing else holds it.
type UnpinRequest struct {
	Path string `json:"path"`
}

// MapRequest is a map operation (lookup, update, delete, getnext, dump).
// Key and Value are the raw bytes; a per-CPU value is the value of every
// slot, each rounded up to 8 bytes, or one value that every slot gets.
type MapRequest struct {
	Map   Ref    `json:"map"`
	Key   []byte `json:"key,omitempty"`
	Value []byte `json:"value,omitempty"`
	// NoKey asks getnext for the first key.
	NoKey bool `json:"no_key,omitempty"`
	// Flags of an update: 0 any, 1 noexist, 2 exist (BPF_ANY...).
	Flags uint64 `json:"flags,omitempty"`
	// ValueRef is the value of an update of a program array (a program)
	// or of a map of maps (a map), as bpftool's "value id|name|pinned"
	// gives it; Value may instead hold the object's ID in 4 bytes. Lookups
	// of these maps return the ID (as Linux returns the ID of what a file
	// descriptor named). A devmap's or cpumap's 8-byte value holds the ID
	// of its entry program at offset 4 (0 for none).
	ValueRef *Ref `json:"value_ref,omitempty"`
	// Formatted asks lookup and dump for each entry's key and value
	// read through the map's BTF types, as bpftool formats them (in
	// Entry.Formatted): "json" as in bpftool's JSON, "plain" as in its
	// output for people. Maps without BTF types have none.
	Formatted string `json:"formatted,omitempty"`
}

// Entry is one key and value of a map.
type Entry struct {
	Key   []byte `json:"key"`
	Value []byte `json:"value,omitempty"`
	// Formatted is bpftool's "formatted" document of the entry
	// ({"key": ..., "value": ...}), when MapRequest.Formatted asked for
	// it and the map has BTF types. In "plain", a value bpftool prints
	// bare and not as JSON (0x1f, (nil)) is a string that starts with a
	// NUL character.
	Formatted json.RawMessage `json:"formatted,omitempty"`
}

// MapResult answers a map operation: Entries for dump and lookup, NextKey
// for getnext. Slots is the number of per-CPU values of a per-CPU map, 0
// otherwise.
type MapResult struct {
	Entries []Entry `json:"entries,omitempty"`
	NextKey []byte  `json:"next_key,omitempty"`
	Slots   int     `json:"slots,omitempty"`
	// Typed says that the map has BTF types and the entries are
	// formatted as MapRequest.Formatted asked (also when there are none).
	Typed bool `json:"typed,omitempty"`
}

// XlatedInsn is one instruction of a program as it was loaded (PathProgDump
// answers a ProgRequest with a list of them), in bpftool's JSON shape:
// "pc" is its slot (bpftool leaves it out of its JSON), "disasm" the instruction in LLVM's syntax after its opcode in hex,
// "src" the source line where it starts, "proto" the function's name where
// one starts. A map reference reads "r1 = map[id:N]" (a global variable
// "map[id:N][0]+OFF") and a helper call "call bpf_NAME#ID", as bpftool
// prints them, not as host addresses.
type XlatedInsn struct {
	Proto string `json:"proto,omitempty"`
	Src   string `json:"src,omitempty"`
	// File, Line and Col are where Src is (bpftool's "linum"), when the
	// object's line info says.
	File   string `json:"file,omitempty"`
	Line   uint32 `json:"line_num,omitempty"`
	Col    uint32 `json:"line_col,omitempty"`
	PC     int    `json:"pc"`
	Disasm string `json:"disasm"`
}

// Event is one record of a ring buffer or perf event array, a line of PathMapEventPipe's
// response.
type Event struct {
	Data []byte `json:"data"`
	// CPU is the execution slot a perf event array's sample was written
	// on; nil for ring buffers.
	CPU *int `json:"cpu,omitempty"`
	// Lost, if not 0, reports that many perf samples dropped because the
	// buffer was full (Data is then empty).
	Lost uint64 `json:"lost,omitempty"`
}
