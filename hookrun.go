package bpfhost

import (
	"fmt"
	"unsafe"

	"github.com/bpfhost/bpfhost/helpers"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// Task is the process a socket hook's run acts for: what
// bpf_get_current_pid_tgid, bpf_get_current_uid_gid and
// bpf_get_current_comm report. Hooks may look the answers up lazily: most
// programs call none of them.
type Task = helpers.Task

// Socket is the socket a socket hook's context describes (bpf_get_socket_cookie,
// bpf_get_netns_cookie, bpf_bind).
type Socket = helpers.Socket

// SocketOptions is a Socket whose options programs set and read with
// bpf_setsockopt and bpf_getsockopt (docs/decisions/0038-sock-addr-socket.md).
type SocketOptions = helpers.SocketOptions

// StorageSocket is a Socket that sk storage can belong to.
type StorageSocket = helpers.StorageSocket

// SocketID names a socket for sk storage maps: its cookie and inode.
type SocketID = maps.SocketID

// SockAddresses fills the address fields of a struct bpf_sock whose
// family, protocol and state are set from the socket's local and remote
// addresses (16 bytes each, an IPv4 socket's IPv4-mapped), as Linux's
// socket keeps them.
func SockAddresses(out *linux.SockContext, src, dst [16]byte) { helpers.SockAddresses(out, src, dst) }

// SockRun is the state of a socket hook's runs (RunSockAddr, RunSock): the
// task and socket the helpers report. A hook keeps one per worker and
// reuses it, so that a run allocates nothing; the zero value reports the
// host process and no socket.
type SockRun struct{ run helpers.Run }

// SetTask sets the task and the socket the following runs report (nil:
// the host process, no socket).
func (r *SockRun) SetTask(task Task, sock Socket) {
	r.run.Task, r.run.Socket = task, sock
}

// RunSockAddr runs a cgroup_sock_addr program on a socket hook's context:
// ctx is struct bpf_sock_addr in the host layout and sk the struct bpf_sock
// its sk field points to (RunSockAddr sets ctx.SK), which programs read
// without a NULL check, as Linux's is never NULL: a nil sk is an error. Both
// must be heap memory the caller keeps alive for the call (DESIGN.md #2).
// run carries the task and socket the helpers report. It returns r0, which the hook interprets (bit 0 allows).
func (p *Program) RunSockAddr(ctx *linux.SockAddrContext, sk *linux.SockContext, sr *SockRun) (uint32, error) {
	if p.closed.Load() {
		return 0, fmt.Errorf("program %q: %w", p.name, ErrClosed)
	}
	if p.info.Type != linux.CGroupSockAddr {
		return 0, fmt.Errorf("program %q: %w: %s program on a sock_addr hook", p.name, ErrNotSupported, p.info)
	}
	if sk == nil {
		return 0, fmt.Errorf("program %q: %w: no struct bpf_sock for ctx->sk", p.name, ErrInvalid)
	}
	// The writable fields, the struct read-only (ctxregions.go), the
	// socket: fixed room, so that a run allocates nothing.
	var room [8]vm.Region
	regions := contextRegions(room[:0], p.info.Context, "bpf_sock_addr", ctx, unsafe.Pointer(ctx), unsafe.Sizeof(*ctx))
	ctx.SK = uint64(uintptr(unsafe.Pointer(sk)))
	regions = append(regions, hostRegion("bpf_sock", sk, unsafe.Pointer(sk), unsafe.Sizeof(*sk), false))
	run := &sr.run
	run.Program = p.info.Type
	run.Ctx = unsafe.Pointer(ctx)
	r0, _, err := p.exec(run, [5]uint64{uint64(uintptr(unsafe.Pointer(ctx)))}, regions, nil, &hookRun)
	if err != nil {
		return 0, fmt.Errorf("program %q: %w", p.name, err)
	}
	return uint32(r0), nil
}

// MayReadSocket reports whether a cgroup_sock_addr program may read the
// socket its context points to (ctx->sk): a hook fills the socket's struct
// bpf_sock, which costs system calls, only for programs that may. It is
// conservative: any 8-byte load at sk's offset counts, as does a tail call
// (the program it continues in may read it).
func (p *Program) MayReadSocket() bool {
	if p.info.Type != linux.CGroupSockAddr {
		return false
	}
	if p.tailCalls {
		return true
	}
	off := int16(unsafe.Offsetof(linux.SockAddrContext{}.SK))
	for _, ins := range p.insns {
		if ins.Opcode.Class() == isa.ClassLDX && ins.Opcode.Size() == isa.SizeDW && ins.Offset == off {
			return true
		}
	}
	return false
}

// RunSock runs a cgroup_sock program (sock_create, post_bind4/6, ...) on a
// socket hook's struct bpf_sock, which must be heap memory the caller keeps
// alive for the call; run is as for RunSockAddr. It returns r0 (bit 0
// allows).
func (p *Program) RunSock(sk *linux.SockContext, sr *SockRun) (uint32, error) {
	if p.closed.Load() {
		return 0, fmt.Errorf("program %q: %w", p.name, ErrClosed)
	}
	if p.info.Type != linux.CGroupSock {
		return 0, fmt.Errorf("program %q: %w: %s program on a cgroup_sock hook", p.name, ErrNotSupported, p.info)
	}
	var room [8]vm.Region
	regions := contextRegions(room[:0], p.info.Context, "bpf_sock", sk, unsafe.Pointer(sk), unsafe.Sizeof(*sk))
	run := &sr.run
	run.Program = p.info.Type
	run.Ctx = unsafe.Pointer(sk)
	r0, _, err := p.exec(run, [5]uint64{uint64(uintptr(unsafe.Pointer(sk)))}, regions, nil, &hookRun)
	if err != nil {
		return 0, fmt.Errorf("program %q: %w", p.name, err)
	}
	return uint32(r0), nil
}

// hookRun are the options of a hook's run: once, with no deadline (a hook
// event is not a caller that can wait for a context). Shared, read-only.
var hookRun = RunOptions{Repeat: 1}

// hostRegion describes a hook's context struct at p (size bytes), held by
// the pointer ref: a pointer in the region's Memory keeps it alive and, as
// an interface value, costs no allocation (a byte slice would: vm.RegionOf
// boxes its slice header, twice per sock_addr run).
func hostRegion(name string, ref any, p unsafe.Pointer, size uintptr, writable bool) vm.Region {
	return vm.Region{Start: uintptr(p), Size: size, Writable: writable, Name: name, Memory: ref}
}
