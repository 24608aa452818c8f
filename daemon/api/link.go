package api

// Paths of the link calls: XDP attachments the daemon owns, as "bpftool net"
// and "bpftool link" manage them.
const (
	PathNetAttach  = "/" + Version + "/net/attach"
	PathNetDetach  = "/" + Version + "/net/detach"
	PathLinkList   = "/" + Version + "/link/list"
	PathLinkGet    = "/" + Version + "/link/get"
	PathLinkPin    = "/" + Version + "/link/pin"
	PathLinkDetach = "/" + Version + "/link/detach"
)

// NetAttachRequest attaches an XDP program to a device (PathNetAttach), as
// "bpftool net attach xdp PROG dev IF" does; Peer selects bridge mode.
type NetAttachRequest struct {
	Prog Ref    `json:"prog"`
	Dev  string `json:"dev"`
	Peer string `json:"peer,omitempty"`
	// Overwrite replaces the program of a device that has one, as
	// bpftool's "overwrite" (the link keeps its ID, pins and counters);
	// without it, such a device is CodeBusy.
	Overwrite bool `json:"overwrite,omitempty"`
}

// NetDetachRequest detaches the XDP program of a device (PathNetDetach).
type NetDetachRequest struct {
	Dev string `json:"dev"`
	// Mode is the XDP mode to detach from, as bpftool's attach types
	// name them: XDPModeGeneric (or "": "xdp", "xdpgeneric") detaches
	// the device's link; XDPModeDriver and XDPModeOffload detach nothing,
	// since the daemon attaches in neither, and succeed as Linux's
	// detach from a mode without a program does. A device that does not
	// exist is CodeNotFound whatever the mode.
	Mode string `json:"mode,omitempty"`
}

// XDP modes of NetDetachRequest.Mode.
const (
	XDPModeGeneric = "generic"
	XDPModeDriver  = "driver"
	XDPModeOffload = "offload"
)

// PathNetShow lists the links of one device (NetShowRequest): "bpftool net
// show dev IF". A device that does not exist in the daemon's network
// namespace is CodeNotFound ("invalid devname"), as bpftool reports it.
const PathNetShow = "/" + Version + "/net/show"

// NetShowRequest names the device of PathNetShow.
type NetShowRequest struct {
	Dev string `json:"dev"`
}

// LinkRequest names a link (PathLinkGet, PathLinkDetach): by ID or pin
// path (links have no names).
type LinkRequest struct {
	Link Ref `json:"link"`
}

// LinkInfo describes a link with the fields of bpftool's "link show" JSON
// that have a true equivalent, and the link's counters.
type LinkInfo struct {
	ID      uint32   `json:"id"`
	Type    string   `json:"type"` // "xdp"
	ProgID  uint32   `json:"prog_id"`
	Ifindex int      `json:"ifindex"`
	Devname string   `json:"devname"`
	Peer    string   `json:"peer,omitempty"` // bridge mode's second device
	Pinned  []string `json:"pinned,omitempty"`
	// Packets and Bytes count the frames the program ran on since the
	// link was attached (or the daemon restarted); Verdicts counts them
	// by XDP action name.
	Packets  uint64            `json:"packets"`
	Bytes    uint64            `json:"bytes"`
	Verdicts map[string]uint64 `json:"verdicts,omitempty"`
}

// PathProgJited lists a program's machine code (prog dump jited).
const PathProgJited = "/" + Version + "/prog/jited"

// JitedBlock is the machine code of one eBPF instruction, or of a routine
// the JIT shares between instructions (PC -1, Name set).
type JitedBlock struct {
	PC        int      `json:"pc"`
	Name      string   `json:"name,omitempty"`
	Insn      string   `json:"insn,omitempty"` // the eBPF instruction, LLVM's syntax
	OutOfLine bool     `json:"out_of_line,omitempty"`
	Offset    int      `json:"offset"` // in the program's code
	Code      []string `json:"code"`   // x86-64 instructions
}

// Paths of the queue and stack calls; each takes a MapRequest (Value and
// Flags for a push) and Peek and Pop answer a MapResult with one entry
// whose Key is empty.
const (
	PathMapPeek = "/" + Version + "/map/peek"
	PathMapPush = "/" + Version + "/map/push"
	PathMapPop  = "/" + Version + "/map/pop"
)
