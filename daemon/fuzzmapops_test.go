package daemon

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"testing"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// mapOpsCalls are the calls FuzzMapOps makes, by its call argument.
var mapOpsCalls = []string{
	api.PathMapLookup, api.PathMapUpdate, api.PathMapDelete, api.PathMapNextKey, api.PathMapDump,
	api.PathMapPush, api.PathMapPop, api.PathMapPeek, api.PathMapFreeze, api.PathMapGet,
	api.PathMapPin, api.PathUnpin, api.PathMapCreate, api.PathMapEventPipe, api.PathProgRun,
	api.PathProgPin, api.PathLinkPin, api.PathProgGet, api.PathProgLoad, api.PathNetDetach,
	api.PathLinkGet, api.PathLinkDetach, api.PathProgDump, api.PathProgJited,
}

// fuzzPins are the fixture's pins, which a ref argument picks by number
// so that most inputs reach an object.
var fuzzPins = []string{
	"/f/counter_maps/counts", "/f/counter_maps/total", "/f/queue_maps/fifo", "/f/queue_maps/lifo",
	"/f/bloom_maps/seen", "/f/refs_maps/jmp", "/f/refs_maps/outer", "/f/refs_maps/houter",
	"/f/refs_maps/inner", "/f/refs_maps/cpus", "/f/refs_maps/devs", "/f/refs_maps/result",
	"/f/events_maps/events", "/f/created", "/f/counter", "/f/queue", "/f/refs/entry", "/f/refs/egress",
	"/f/btf_maps/rich", "/f/btf_maps/percpu", "/f/btf_maps/btfvals_data", "/f/btf_maps/btfvals_rodata",
	"/f/perf_maps/samples", "/f/btf",
}

// mapTypeNames are names of map types for map create, and some that are not.
var mapTypeNames = []string{
	"hash", "array", "percpu_hash", "percpu_array", "lru_hash", "lru_percpu_hash", "lpm_trie",
	"queue", "stack", "bloom_filter", "ringbuf", "prog_array", "array_of_maps", "hash_of_maps",
	"perf_event_array", "devmap", "devmap_hash", "cpumap", "sk_storage", "", "unspec", "HASH",
}

// counterObj is testdata/counter.o, which FuzzMapOps loads.
var counterObj, _ = os.ReadFile("testdata/counter.o")

// fuzzRef is the JSON of a reference, chosen by sel among forms valid and
// not: an ID (any number, negative or huge), a name, a pin path, a pin
// of the fixture, a tag, two fields at once, none.
func fuzzRef(sel uint8, id int64, name, pin string) json.RawMessage {
	var v any
	switch sel % 8 {
	case 0:
		return json.RawMessage(`{"id":` + strconv.FormatInt(id, 10) + `}`)
	case 1:
		v = map[string]any{"name": name}
	case 2:
		v = map[string]any{"pinned": pin}
	case 3:
		v = map[string]any{"pinned": fuzzPins[uint64(id)%uint64(len(fuzzPins))]}
	case 4:
		v = map[string]any{"tag": name}
	case 5:
		v = map[string]any{"id": id, "name": name}
	case 6:
		v = map[string]any{}
	case 7:
		v = map[string]any{"id": uint64(id)%24 + 1}
	}
	b, _ := json.Marshal(v)
	return b
}

// mapOpsBody is the JSON body of call built from FuzzMapOps's arguments.
// Numbers go in as they are (negative, beyond their field's range), so
// that the decoding of each is reached as well as the call.
func mapOpsBody(call string, sel uint8, id int64, name string, key, value []byte, flags, n int64, pin, formatted string) []byte {
	num := func(x int64) json.RawMessage { return json.RawMessage(strconv.FormatInt(x, 10)) }
	ref := fuzzRef(sel, id, name, pin)
	var body map[string]any
	switch call {
	case api.PathMapPin, api.PathProgPin, api.PathLinkPin:
		body = map[string]any{"ref": ref, "path": pin}
	case api.PathUnpin:
		body = map[string]any{"path": pin}
	case api.PathMapCreate:
		body = map[string]any{"path": pin, "type": mapTypeNames[uint64(n)%uint64(len(mapTypeNames))],
			"key": num(id), "value": num(flags), "entries": num(n >> 8), "name": name}
		if sel&8 != 0 {
			body["flags"] = num(int64(len(key)) | int64(sel)<<8)
		}
		if sel&16 != 0 {
			body["inner_map"] = fuzzRef(sel>>5, id, name, pin)
		}
	case api.PathProgRun:
		// Runs are bounded by the client's patience (its closing stops
		// one): a repeat count beyond 10000 would take the fuzzer's time,
		// not find faults; negative and out of range counts stay.
		if n > 10000 {
			n %= 10000
		}
		body = map[string]any{"prog": ref, "data_in": value, "ctx_in": key, "want_ctx_out": sel&8 != 0, "repeat": num(n)}
	case api.PathProgGet, api.PathProgDump, api.PathProgJited:
		body = map[string]any{"prog": ref}
	case api.PathLinkGet, api.PathLinkDetach:
		body = map[string]any{"link": ref}
	case api.PathNetDetach:
		body = map[string]any{"dev": name}
	case api.PathProgLoad:
		// The fixture's counter object (its bytes are FuzzControlAPI's
		// to mutate), with every option from the arguments: a program,
		// a type, pin paths, an object name, a map replacement by index
		// (any number) or name.
		repl := map[string]any{"map": fuzzRef(sel>>5, n, name, pin)}
		if sel&16 != 0 {
			repl["idx"] = num(flags)
		} else {
			repl["name"] = formatted
		}
		body = map[string]any{"object": counterObj, "pin_path": pin, "program": name, "all": sel&8 != 0,
			"type": formatted, "object_name": string(key), "maps": []any{repl}}
		if len(value) > 0 {
			body["pinmaps"] = string(value)
		}
		if sel&32 != 0 {
			delete(body, "maps")
		}
	default:
		body = map[string]any{"map": ref, "key": key, "value": value, "flags": num(flags), "formatted": formatted}
		if sel&8 != 0 {
			body["no_key"] = true
		}
		if sel&16 != 0 {
			body["value_ref"] = fuzzRef(sel>>5, n, name, pin)
		}
		if sel&32 != 0 {
			delete(body, "key")
		}
	}
	b, _ := json.Marshal(body)
	return b
}

// typed is FuzzMapOps's n argument for map create: entries, and the
// type's name in mapTypeNames.
func typed(entries int64, typ string) int64 {
	for r := int64(0); r < 256; r++ {
		n := entries<<8 | r
		if mapTypeNames[uint64(n)%uint64(len(mapTypeNames))] == typ {
			return n
		}
	}
	panic("no type " + typ)
}

// FuzzMapOps sends the map calls (and the pin, create and run calls that
// share their shapes) with bodies built from typed arguments: keys and
// values of every size, any flags and counts, negative and huge numbers,
// pin paths with traversal and unicode, references of every form.
func FuzzMapOps(f *testing.F) {
	type seed struct {
		call, sel      uint8
		id             int64
		name           string
		key, value     []byte
		flags, n       int64
		pin, formatted string
	}
	seeds := []seed{
		{0, 3, 0, "", u32(1), nil, 0, 0, "", "json"},                                              // lookup counts[1]
		{1, 3, 0, "", u32(9), u64(9), 1, 0, "", ""},                                               // update counts
		{1, 3, 13, "", u32(2), u64(1), 0, 0, "", ""},                                              // update created (per-CPU, one value)
		{1, 3, 5, "", u32(0), nil, 0, 0, "", ""},                                                  // update jmp: no value
		{1, 3 | 16 | 3<<5, 5, "", u32(0), nil, 0, 14, "", ""},                                     // update jmp with a program
		{1, 3 | 16 | 3<<5, 6, "", u32(1), nil, 0, 8, "", ""},                                      // update outer with a map
		{1, 3, 0, "", make([]byte, 1<<16), make([]byte, 1<<16), 0, 0, "", ""},                     // oversized key and value
		{1, 3, 0, "", u32(1), u64(1), -1, 0, "", ""},                                              // negative flags
		{1, 3, 0, "", u32(1), u64(1), 1 << 62, 0, "", ""},                                         // huge flags
		{2, 3, 0, "", u32(0), nil, 0, 0, "", ""},                                                  // delete
		{3, 3 | 8, 0, "", nil, nil, 0, 0, "", ""},                                                 // getnext, first key
		{3, 3, 0, "", []byte{1}, nil, 0, 0, "", ""},                                               // getnext, short key
		{4, 3, 7, "", nil, nil, 0, 0, "", "plain"},                                                // dump houter
		{4, 3, 11, "", nil, nil, 0, 0, "", "bogus"},                                               // dump result
		{5, 3, 2, "", nil, u32(4), 0, 0, "", ""},                                                  // push fifo
		{5, 3, 4, "", nil, []byte{1, 2, 3}, 2, 0, "", ""},                                         // push bloom, short value
		{6, 3, 3, "", nil, nil, 0, 0, "", ""},                                                     // pop lifo
		{7, 3, 2, "", nil, nil, 0, 0, "", ""},                                                     // peek fifo
		{8, 3, 1, "", nil, nil, 0, 0, "", ""},                                                     // freeze total
		{9, 1, 0, "counts", nil, nil, 0, 0, "", ""},                                               // map get by name
		{9, 0, -1, "", nil, nil, 0, 0, "", ""},                                                    // map get id -1
		{9, 0, 1 << 40, "", nil, nil, 0, 0, "", ""},                                               // map get id 2^40
		{9, 4, 0, "0123456789abcdef", nil, nil, 0, 0, "", ""},                                     // tag on a map
		{10, 3, 0, "", nil, nil, 0, 0, "/f/x/../../etc/passwd", ""},                               // pin traversal
		{10, 3, 0, "", nil, nil, 0, 0, "/f/ünï/\u202e/\xff", ""},                                  // unicode, invalid UTF-8
		{10, 3, 0, "", nil, nil, 0, 0, "/f/a\x00b", ""},                                           // NUL
		{10, 3, 0, "", nil, nil, 0, 0, "relative/p", ""},                                          // relative
		{11, 0, 0, "", nil, nil, 0, 0, "/f/counter_maps/counts", ""},                              // unpin
		{11, 0, 0, "", nil, nil, 0, 0, "/f/", ""},                                                 // unpin a directory
		{12, 0, 4, "c", nil, nil, 8, typed(16, "hash"), "/f/c", ""},                               // create hash
		{12, 0, 0xffffffff, "big", nil, nil, 0xffffffff, typed(0xffffffff, "hash"), "/f/big", ""}, // huge sizes
		{12, 0, 4, "big", nil, nil, 1 << 20, typed(0xffffffff, "percpu_array"), "/f/big", ""},     // huge per-CPU array
		{12, 16 | 3<<5, 8, "m", nil, nil, 4, typed(4, "hash_of_maps"), "/f/m", ""},                // map of maps
		{12, 0, -4, "neg", nil, nil, -8, -1, "/f/n", ""},                                          // negative sizes
		{13, 3, 12, "", nil, nil, 0, 0, "", ""},                                                   // event pipe
		{14, 3, 14, "", make([]byte, 14), make([]byte, 64), 0, 3, "", ""},                         // prog run
		{14, 3 | 8, 15, "", make([]byte, 100), make([]byte, 14), 0, -1, "", ""},                   // prog run, context, negative repeat
		{15, 3, 14, "", nil, nil, 0, 0, "/f/p2", ""},                                              // prog pin
		{16, 7, 0, "", nil, nil, 0, 0, "/f/l", ""},                                                // link pin
		{17, 4, 0, "ZZZZ", nil, nil, 0, 0, "", ""},                                                // prog get, bad tag
		{0, 3, 18, "", make([]byte, 8), nil, 0, 0, "", "plain"},                                   // lookup rich, formatted
		{1, 3, 18, "", make([]byte, 8), make([]byte, 56), 0, 0, "", ""},                           // update rich
		{4, 3, 19, "", nil, nil, 0, 0, "", "json"},                                                // dump percpu, formatted
		{4, 3, 21, "", nil, nil, 0, 0, "", "plain"},                                               // dump rodata
		{13, 3, 22, "", nil, nil, 0, 0, "", ""},                                                   // perf event pipe
		{18, 3 | 32, 0, "count_packets", nil, nil, 0, 0, "/f/new", ""},                            // load
		{18, 3 | 16 | 3<<5, 0, "", []byte("obj"), []byte("/f/new_maps"), 0, 0, "/f/new", "xdp"},   // load, idx 0 -> counts
		{18, 3 | 3<<5, 0, "", nil, nil, 0, 1, "/f/new", "total"},                                  // load, total -> total
		{18, 3 | 16, 0, "", nil, nil, -1, 0, "/f/new", ""},                                        // load, idx -1
		{18, 8 | 32, 0, "", nil, []byte("/f/../f/x"), 0, 0, "/f/all", "tc"},                       // loadall, bad pinmaps, type
		{19, 0, 0, "lo", nil, nil, 0, 0, "", ""},                                                  // net detach lo
		{20, 7, 0, "", nil, nil, 0, 0, "", ""},                                                    // link get
		{21, 2, 0, "", nil, nil, 0, 0, "/f/counter", ""},                                          // link detach a program's pin
		{22, 3, 14, "", nil, nil, 0, 0, "", ""},                                                   // prog dump
		{23, 3, 16, "", nil, nil, 0, 0, "", ""},                                                   // prog jited
	}
	for _, s := range seeds {
		f.Add(s.call, s.sel, s.id, s.name, s.key, s.value, s.flags, s.n, s.pin, s.formatted)
	}
	dir := f.TempDir()
	fx := newFuzzFixture(f, dir)
	defer func() { fx.close() }()
	f.Fuzz(func(t *testing.T, call, sel uint8, id int64, name string, key, value []byte, flags, n int64, pin, formatted string) {
		p := mapOpsCalls[int(call)%len(mapOpsCalls)]
		in := rawBody("POST", p, mapOpsBody(p, sel, id, name, key, value, flags, n, pin, formatted))
		fuzzRun(t, &fx, dir, in)
	})
}

// rawBody is a request with a body as it is, JSON or not.
func rawBody(method, p string, body []byte) []byte {
	var b bytes.Buffer
	b.WriteString(method + " " + p + " HTTP/1.1\r\nHost: bpfhost\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	b.Write(body)
	return b.Bytes()
}
