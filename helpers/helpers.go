package helpers

import (
	"errors"
	"fmt"
	"sort"
	"unsafe"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/vm"
)

// Host is what helpers need from the runtime that hosts programs.
type Host interface {
	// MapOf resolves a register value that names a map (from an lddw map
	// reference, or an inner map returned by a map-of-maps lookup). ok is
	// false for anything else (checked mode relies on it).
	MapOf(ptr uint64) (maps.Map, bool)
	// HandlePtr returns the register value naming a handle stored in a
	// map-of-maps slot (what bpf_map_lookup_elem on an array_of_maps or
	// hash_of_maps returns to the program).
	HandlePtr(h any) uint64
	// TailTarget resolves a prog_array slot's handle to the program to
	// continue with.
	TailTarget(h any) (vm.Executable, bool)
	// Printk receives one formatted bpf_trace_printk line, without the
	// trailing newline the format usually ends with.
	Printk(line string)
}

// Run is the per-run state helpers read from RunContext.Value: the runtime
// sets rc.Value to a *Run before each run of a program that uses context or
// packet helpers. Reset it (or reuse it with Reset) between runs.
type Run struct {
	// Program is the program type, which selects the Linux variant of
	// helpers that differ by type (bpf_redirect for XDP or tc).
	Program platform.ProgramType
	// Ctx is the host context struct the program's r1 points to
	// (*linux.XDPContext, *linux.SKBContext) or nil.
	Ctx unsafe.Pointer
	// Packet is the whole packet buffer, including headroom and tailroom:
	// its first byte is XDP's data_hard_start and its end is as far as
	// bpf_xdp_adjust_tail may grow the packet. The context's data
	// pointers point into it.
	Packet []byte
	// Frags are the fragments of an XDP multi-buffer packet, after the
	// linear part in Packet: each is one page's data (its capacity is the
	// page, as far as bpf_xdp_adjust_tail may grow the last one). The
	// helpers that take the whole packet (bpf_xdp_get_buff_len,
	// bpf_xdp_load_bytes, bpf_xdp_store_bytes, bpf_xdp_adjust_tail) read
	// and change them; programs never see them directly.
	Frags [][]byte
	// Redirect is what bpf_redirect and bpf_redirect_map recorded, for the
	// hook to act on an XDP_REDIRECT or TC_ACT_REDIRECT verdict.
	Redirect Redirect
	// Call, if not nil, runs callbacks (bpf_loop, bpf_for_each_map_elem)
	// instead of the engine; see Caller.
	Call Caller
	// Task, if not nil, is the task the run acts for (the supervised
	// process of a socket hook); the current-task helpers report it
	// instead of the host process. See task.go.
	Task Task
	// Socket, if not nil, is the socket the run's context describes, for
	// the socket helpers (cookies, bpf_bind). See task.go.
	Socket Socket

	// held are the spin locks and records the run holds (Release).
	held heldSet
	// sockets are the sockets the run's lookups hold (socket.go).
	sockets *socketPool
}

// Reset clears what a run recorded, keeping the buffers.
func (r *Run) Reset() { r.Redirect = Redirect{} }

// Redirect is the target of the last bpf_redirect or bpf_redirect_map call
// of a run, like the kernel's per-CPU struct bpf_redirect_info.
type Redirect struct {
	// Set is true once a redirect helper recorded a target.
	Set bool
	// Ifindex is bpf_redirect's interface index, or bpf_redirect_map's key.
	Ifindex uint32
	// Flags are the helper's flags (BPF_F_INGRESS, BPF_F_BROADCAST, ...).
	Flags uint64
	// Map is bpf_redirect_map's map; nil for bpf_redirect.
	Map maps.Map
}

// Errors helpers stop a run with. Ordinary failures are negative errno
// return values, as in Linux; these are for what a verified program cannot
// do and a runtime must not get wrong.
var (
	// ErrNotAMap: a map argument that Host.MapOf does not know (checked
	// runs), or a map of the wrong kind for the helper.
	ErrNotAMap = errors.New("not a map")
	// ErrNoRun: RunContext.Value does not hold the *Run a helper needs.
	ErrNoRun = errors.New("no *helpers.Run in RunContext.Value")
	// ErrContext: the context argument is not Run.Ctx, or the packet
	// pointers do not lie in Run.Packet.
	ErrContext = errors.New("bad context")
	// ErrBadRecord: a ring buffer record that was not reserved.
	ErrBadRecord = errors.New("not a reserved ring buffer record")
	// ErrMisaligned: a bpf_spin_lock that is not 4-byte aligned.
	ErrMisaligned = errors.New("misaligned spin lock")
)

// impl is the state shared by the helpers of one table.
type impl struct {
	host  Host
	rings ringRegistry
	sizes sizeCache
}

// table lists every implemented helper and how to build it.
var table = map[platform.HelperID]func(h *impl) vm.Helper{}

// register adds helpers to the table; each file registers its own.
func register(id platform.HelperID, build func(h *impl) vm.Helper) {
	if _, dup := table[id]; dup {
		panic(fmt.Sprintf("helpers: %v registered twice", id))
	}
	table[id] = build
}

// New returns every implemented helper, keyed by Linux helper ID, bound to
// host. The table is safe for concurrent runs.
func New(host Host) vm.Helpers {
	h := &impl{host: host}
	out := make(vm.Helpers, len(table))
	for id, build := range table {
		out[int32(id)] = metered(id, build(h))
	}
	return out
}

// Supported reports whether New's table has the helper.
func Supported(id platform.HelperID) bool {
	_, ok := table[id]
	return ok
}

// IDs returns the implemented helper IDs in increasing order.
func IDs() []platform.HelperID {
	ids := make([]platform.HelperID, 0, len(table))
	for id := range table {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// runOf returns the run's *Run.
func runOf(rc *vm.RunContext, name string) (*Run, error) {
	if r, ok := rc.Value.(*Run); ok && r != nil {
		return r, nil
	}
	return nil, fmt.Errorf("%s: %w", name, ErrNoRun)
}

// mapOf resolves a map argument. Unknown values are an error in checked
// runs; in trusted runs the verifier proved the argument a map, so an
// unknown one means a broken runtime: the helper fails with -EINVAL.
func (h *impl) mapOf(rc *vm.RunContext, ptr uint64, name string) (maps.Map, error) {
	m, ok := h.host.MapOf(ptr)
	if ok && m != nil {
		return m, nil
	}
	if rc.Mode == vm.Checked {
		return nil, fmt.Errorf("%s: %w: %#x", name, ErrNotAMap, ptr)
	}
	return nil, nil
}

// wrongMap is the result for a map of a kind the helper does not take:
// an error in checked runs, -errno otherwise.
func wrongMap(rc *vm.RunContext, name string, m maps.Map, errno int64) (uint64, error) {
	if rc.Mode == vm.Checked {
		return 0, fmt.Errorf("%s: %w: map %q is a %s", name, ErrNotAMap, m.Spec().Name, m.Spec().Type)
	}
	return ret(errno), nil
}

// argErr wraps a memory argument's fault with the helper's name.
func argErr(name, what string, err error) error {
	return fmt.Errorf("%s: %s: %w", name, what, err)
}

// ret converts a signed helper result to the r0 value.
func ret(v int64) uint64 { return uint64(v) }
