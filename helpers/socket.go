package helpers

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// Socket lookups (docs/decisions/0025-socket-lookups.md):
// bpf_sk_lookup_tcp, bpf_sk_lookup_udp and bpf_skc_lookup_tcp find a socket
// of the host by a struct bpf_sock_tuple, as the kernel's __bpf_sk_lookup
// does, and hand the program a struct bpf_sock (linux.SockContext) that
// describes it; bpf_sk_release gives it back. The description is a copy
// taken at the lookup (Linux hands out the live socket, whose fields a
// program sees change), held in a per-run pool: a lookup allocates
// nothing once the pool exists, and the verifier proves that a program
// releases every socket before it ends (Run.Release frees what a failed or
// unverified run left). Where the host cannot be asked (systems other than
// Linux, no sock_diag), every lookup returns NULL.

func init() {
	register(linux.FnSkLookupTcp, func(h *impl) vm.Helper { return skLookup(h, "bpf_sk_lookup_tcp", ipprotoTCP, true) })
	register(linux.FnSkLookupUdp, func(h *impl) vm.Helper { return skLookup(h, "bpf_sk_lookup_udp", ipprotoUDP, true) })
	register(linux.FnSkcLookupTcp, func(h *impl) vm.Helper { return skLookup(h, "bpf_skc_lookup_tcp", ipprotoTCP, false) })
	register(linux.FnSkRelease, skRelease)
}

const (
	ipprotoTCP = 6
	tcpClose   = 7  // TCP_CLOSE
	tcpListen  = 10 // TCP_LISTEN
	ipprotoUDP = 17

	// tupleV4Size and tupleV6Size are sizeof the ipv4 and ipv6 parts of
	// struct bpf_sock_tuple: the only sizes Linux looks up.
	tupleV4Size = 12
	tupleV6Size = 36

	// maxHeldSockets bounds the sockets one run holds at once: a lookup
	// beyond it returns NULL. A verified program holds at most one per
	// lookup call site and call depth; the bound is for unverified
	// (checked) programs, whose memory must stay in proportion.
	maxHeldSockets = 64
	// fixedSockets are held without allocating.
	fixedSockets = 8
)

// ErrBadSocket: bpf_sk_release of something that is not a socket the run
// holds (checked runs).
var ErrBadSocket = errors.New("not a socket the run holds")

// SockTuple is a lookup's key, from the program's struct bpf_sock_tuple:
// addresses in network byte order (IPv4 in the first 4 bytes), ports in
// host order. Src is the packet's source (the socket's remote end), Dst its
// destination (the socket's local end).
type SockTuple struct {
	V6               bool
	Src, Dst         [16]byte
	SrcPort, DstPort uint16
}

// SockLookup is one lookup as the host performs it.
type SockLookup struct {
	Tuple SockTuple
	// Protocol is IPPROTO_TCP or IPPROTO_UDP.
	Protocol uint8
	// Ifindex is the device the packet is seen on (Linux's dif): sockets
	// bound to another device do not match.
	Ifindex uint32
	// Full: a full socket is wanted (bpf_sk_lookup_*): a TCP connection
	// still in its handshake stands for its listener, and a TIME_WAIT one
	// for none. Otherwise (bpf_skc_lookup_tcp) those are returned as they
	// are.
	Full bool
}

// socketPool holds the sockets of one run: fixed slots first, then
// individually allocated ones (addresses never change while held).
type socketPool struct {
	fixed [fixedSockets]linux.SockContext
	used  [fixedSockets]bool
	more  []*linux.SockContext
	// ids name the held sockets for sk storage, by slot: fixedIDs[i]
	// for fixed[i], moreIDs[i] for more[i].
	fixedIDs [fixedSockets]maps.SocketID
	moreIDs  []maps.SocketID
	// rc is the run whose regions describe the held sockets (checked
	// runs), for Release.
	rc *vm.RunContext
	// query and scratch are the lookup's: what it asks and its buffer
	// (sock_diag request and answer).
	query   SockLookup
	scratch [sockScratch]byte
}

var socketPools = sync.Pool{New: func() any { return new(socketPool) }}

// lookupHost is lookupSocket; tests replace it.
var lookupHost = lookupSocket

// take returns a free socket slot and its ID, or nil when the run holds
// maxHeldSockets.
func (p *socketPool) take() (*linux.SockContext, *maps.SocketID) {
	for i := range p.used {
		if !p.used[i] {
			p.used[i] = true
			return &p.fixed[i], &p.fixedIDs[i]
		}
	}
	if len(p.more)+fixedSockets >= maxHeldSockets {
		return nil, nil
	}
	s := new(linux.SockContext)
	p.more = append(p.more, s)
	p.moreIDs = append(p.moreIDs, maps.SocketID{})
	return s, &p.moreIDs[len(p.moreIDs)-1]
}

// id returns the ID of the held socket at addr.
func (p *socketPool) id(addr uint64) (maps.SocketID, bool) {
	for i := range p.fixed {
		if p.used[i] && addrOf(&p.fixed[i]) == addr {
			return p.fixedIDs[i], true
		}
	}
	for i, s := range p.more {
		if addrOf(s) == addr {
			return p.moreIDs[i], true
		}
	}
	return maps.SocketID{}, false
}

// give frees the slot at addr; false if no held socket is there.
func (p *socketPool) give(addr uint64) bool {
	for i := range p.fixed {
		if p.used[i] && addrOf(&p.fixed[i]) == addr {
			p.used[i] = false
			return true
		}
	}
	for i, s := range p.more {
		if addrOf(s) == addr {
			p.more = append(p.more[:i], p.more[i+1:]...)
			p.moreIDs = append(p.moreIDs[:i], p.moreIDs[i+1:]...)
			return true
		}
	}
	return false
}

// held calls f with each held socket's address.
func (p *socketPool) held(f func(addr uint64)) {
	for i := range p.fixed {
		if p.used[i] {
			f(addrOf(&p.fixed[i]))
		}
	}
	for _, s := range p.more {
		f(addrOf(s))
	}
}

func addrOf(s *linux.SockContext) uint64 { return uint64(uintptr(unsafe.Pointer(s))) }

const sockRegionName = "socket"

// addRegion lets a checked run read the socket at s (read-only).
func addRegion(rc *vm.RunContext, p *socketPool, s *linux.SockContext) {
	rc.Regions = append(rc.Regions, vm.Region{Start: uintptr(unsafe.Pointer(s)), Size: unsafe.Sizeof(*s), Name: sockRegionName, Memory: p})
}

// dropRegion removes the region of the socket at addr.
func dropRegion(rc *vm.RunContext, addr uint64) {
	for i, r := range rc.Regions {
		if r.Name == sockRegionName && uint64(r.Start) == addr {
			rc.Regions = append(rc.Regions[:i], rc.Regions[i+1:]...)
			return
		}
	}
}

// releaseSockets frees every socket the run holds and returns the pool.
func (r *Run) releaseSockets() {
	p := r.sockets
	if p == nil {
		return
	}
	if p.rc != nil {
		p.held(func(addr uint64) { dropRegion(p.rc, addr) })
	}
	p.used = [fixedSockets]bool{}
	clear(p.more)
	p.more = p.more[:0]
	p.moreIDs = p.moreIDs[:0]
	p.rc = nil
	r.sockets = nil
	socketPools.Put(p)
}

// HeldSockets calls f with the address of each socket the run holds, for
// oracles that compare what a run holds with what the verifier believes.
func (r *Run) HeldSockets(f func(addr uint64)) {
	if r.sockets != nil {
		r.sockets.held(f)
	}
}

// skLookup is bpf_sk_lookup_tcp, bpf_sk_lookup_udp and bpf_skc_lookup_tcp
// (ctx, tuple, tuple_size, netns, flags).
func skLookup(h *impl, name string, proto uint8, full bool) vm.Helper {
	return func(rc *vm.RunContext, ctx, tuple, size, netns, flags uint64) (uint64, error) {
		run, err := runOf(rc, name)
		if err != nil {
			return 0, err
		}
		if size != tupleV4Size && size != tupleV6Size {
			return 0, nil
		}
		if err := rc.CheckArg(tuple, size, false); err != nil {
			return 0, argErr(name, "tuple", err)
		}
		// Linux: flags must be 0; a netns whose low 32 bits are negative
		// (BPF_F_CURRENT_NETNS) is the caller's, other ids up to S32_MAX
		// name peer namespaces, which bpfhost does not look into.
		if flags != 0 || int32(netns) >= 0 {
			return 0, nil
		}
		// A lookup costs a few system calls: charge it as copying a few
		// hundred bytes would be.
		if err := rc.Charge(8); err != nil {
			return 0, err
		}
		p := run.sockets
		if p == nil {
			p = socketPools.Get().(*socketPool)
			run.sockets = p
		}
		// The query lives in the pool: passed to the host lookup it would
		// escape from the stack.
		q := &p.query
		*q = SockLookup{Protocol: proto, Full: full, Ifindex: runIfindex(run)}
		t := vm.Bytes(tuple, int(size))
		if size == tupleV4Size {
			copy(q.Tuple.Src[:4], t[0:4])
			copy(q.Tuple.Dst[:4], t[4:8])
			q.Tuple.SrcPort, q.Tuple.DstPort = binary.BigEndian.Uint16(t[8:]), binary.BigEndian.Uint16(t[10:])
		} else {
			q.Tuple.V6 = true
			copy(q.Tuple.Src[:], t[0:16])
			copy(q.Tuple.Dst[:], t[16:32])
			q.Tuple.SrcPort, q.Tuple.DstPort = binary.BigEndian.Uint16(t[32:]), binary.BigEndian.Uint16(t[34:])
		}
		s, id := p.take()
		if s == nil {
			return 0, nil
		}
		if !lookupHost(q, s, id, &p.scratch) {
			p.give(addrOf(s))
			return 0, nil
		}
		if rc.Mode == vm.Checked {
			p.rc = rc
			addRegion(rc, p, s)
		}
		return addrOf(s), nil
	}
}

// skRelease is bpf_sk_release(sock).
func skRelease(h *impl) vm.Helper {
	const name = "bpf_sk_release"
	return func(rc *vm.RunContext, sk, _, _, _, _ uint64) (uint64, error) {
		run, _ := rc.Value.(*Run)
		if run != nil && run.sockets != nil && run.sockets.give(sk) {
			if rc.Mode == vm.Checked {
				dropRegion(rc, sk)
			}
			return 0, nil
		}
		if rc.Mode == vm.Checked {
			return 0, fmt.Errorf("%s: %w: %#x", name, ErrBadSocket, sk)
		}
		return 0, nil
	}
}

// runIfindex is the device a lookup is made for (Linux: the skb's device,
// the XDP receive queue's device; none for other program types).
func runIfindex(run *Run) uint32 {
	if run.Ctx == nil {
		return 0
	}
	switch {
	case run.Program == linux.XDP:
		return (*linux.XDPContext)(run.Ctx).IngressIfindex
	case isSKB(run.Program):
		return (*linux.SKBContext)(run.Ctx).Ifindex
	}
	return 0
}

// LookupSocket resolves q against the host's sockets as the lookup helpers
// do, for tools and tests that want to know what a program's lookup would
// find; ok is false when nothing matches or the host cannot be asked.
func LookupSocket(q SockLookup) (s linux.SockContext, ok bool) {
	var buf [sockScratch]byte
	ok = lookupSocket(&q, &s, nil, &buf)
	return s, ok
}
