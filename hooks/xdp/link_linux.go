package xdp

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/maps"
)

// Receive ring geometry per socket: blocks are handed to user space when
// full or after retireTimeout milliseconds (TPACKET_V3).
const (
	ringBlockSize = 1 << 18
	ringBlocks    = 8
	ringFrameSize = 1 << 11
	retireTimeout = 1 // ms, the smallest Linux allows
	ethPAll       = 0x0003
	vlanHLen      = 4
)

// iface is an interface attached in this process. Frames other links
// redirect to it leave through inject, a socket that receives nothing.
type iface struct {
	name  string
	index int
	mtu   int
	link  *Link
	mu    sync.Mutex // guards inject
	fd    int        // inject socket, -1 once closed
}

// attached are the interfaces of every live link, by ifindex: the targets
// of XDP_REDIRECT.
var attached sync.Map // int -> *iface

// Link is an XDP program attached to one interface (monitor mode) or to a
// pair of interfaces (bridge mode). Close detaches it.
type Link struct {
	prog    atomic.Pointer[bpfhost.Program]
	opts    Options
	ifaces  []*iface
	bridge  bool
	workers []*worker
	stop    int // eventfd that wakes the workers to stop
	wg      sync.WaitGroup
	closed  atomic.Bool

	traceMu sync.Mutex
	trace   []string
}

// Attach attaches an XDP program to opts.Interface (and opts.Peer). The
// program runs on every frame from the moment Attach returns until Close.
// Without CAP_NET_RAW (and CAP_NET_ADMIN for promiscuous mode) it fails
// with an error that names the capability.
func Attach(prog *bpfhost.Program, opts Options) (*Link, error) {
	if err := checkProgram(prog); err != nil {
		return nil, err
	}
	if opts.Interface == "" {
		return nil, errors.New("xdp: no interface")
	}
	if opts.Peer == opts.Interface {
		return nil, fmt.Errorf("xdp: peer %q is the interface itself", opts.Peer)
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	if workers > 64 {
		return nil, fmt.Errorf("xdp: %d workers, at most 64", workers)
	}
	l := &Link{opts: opts, bridge: opts.Peer != "", stop: -1}
	l.prog.Store(prog)
	names := []string{opts.Interface}
	if l.bridge {
		names = append(names, opts.Peer)
	}
	ok := false
	defer func() {
		if !ok {
			l.release()
		}
	}()
	for _, name := range names {
		ifc, err := openIface(l, name)
		if err != nil {
			return nil, err
		}
		l.ifaces = append(l.ifaces, ifc)
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("xdp: eventfd: %w", err)
	}
	l.stop = efd
	groups := make([]int, len(l.ifaces))
	for i := range groups {
		groups[i] = fanoutGroup()
	}
	for w := 0; w < workers; w++ {
		wk, err := newWorker(l, w, groups)
		if err != nil {
			return nil, err
		}
		l.workers = append(l.workers, wk)
	}
	if l.bridge {
		for i, ifc := range l.ifaces {
			if err := promisc(l.workers[0].socks[i].fd, ifc.index); err != nil {
				return nil, fmt.Errorf("xdp: %s: promiscuous mode: %w", ifc.name, privilege(err, "CAP_NET_ADMIN"))
			}
		}
	}
	for _, ifc := range l.ifaces {
		if _, dup := attached.LoadOrStore(ifc.index, ifc); dup {
			return nil, fmt.Errorf("xdp: %s: an XDP program of this process is already attached", ifc.name)
		}
	}
	for _, wk := range l.workers {
		l.wg.Add(1)
		go wk.loop()
	}
	ok = true
	return l, nil
}

var fanoutGroups atomic.Uint32

// fanoutGroup returns a fanout group ID for one interface of a link: unique
// in the process, and unlikely to be another process's in the network
// namespace.
func fanoutGroup() int {
	return (os.Getpid()*251 + int(fanoutGroups.Add(1))) & 0xffff
}

func openIface(l *Link, name string) (*iface, error) {
	ni, err := net.InterfaceByName(name)
	if err != nil {
		return nil, fmt.Errorf("xdp: interface %q: %w", name, err)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("xdp: %s: AF_PACKET socket: %w", name, privilege(err, "CAP_NET_RAW"))
	}
	ifc := &iface{name: name, index: ni.Index, mtu: ni.MTU, link: l, fd: fd}
	// Protocol 0: the socket sends but receives nothing.
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ni.Index}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("xdp: %s: bind: %w", name, err)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1)
	return ifc, nil
}

func privilege(err error, capability string) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w (needs %s)", err, capability)
	}
	return err
}

func promisc(fd, index int) error {
	return unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP,
		&unix.PacketMreq{Ifindex: int32(index), Type: unix.PACKET_MR_PROMISC})
}

// Close detaches the program: the workers stop, the sockets close and the
// interfaces leave promiscuous mode.
func (l *Link) Close() error {
	if l == nil || !l.closed.CompareAndSwap(false, true) {
		return nil
	}
	for _, ifc := range l.ifaces {
		attached.CompareAndDelete(ifc.index, ifc)
	}
	var one [8]byte
	one[0] = 1
	if l.stop >= 0 {
		_, _ = unix.Write(l.stop, one[:])
	}
	l.wg.Wait()
	l.release()
	return nil
}

// release frees what Attach acquired; the workers have stopped.
func (l *Link) release() {
	for _, wk := range l.workers {
		wk.close() // its counters stay for Stats
	}
	for _, ifc := range l.ifaces {
		attached.CompareAndDelete(ifc.index, ifc)
		ifc.mu.Lock()
		if ifc.fd >= 0 {
			unix.Close(ifc.fd)
			ifc.fd = -1
		}
		ifc.mu.Unlock()
	}
	if l.stop >= 0 {
		unix.Close(l.stop)
		l.stop = -1
	}
}

// Update replaces the program, as BPF_LINK_UPDATE does: each batch from
// then on runs the new one, with no frame missed or run twice.
func (l *Link) Update(prog *bpfhost.Program) error {
	if err := checkProgram(prog); err != nil {
		return err
	}
	if l.closed.Load() {
		return errors.New("xdp: update of a closed link")
	}
	l.prog.Store(prog)
	return nil
}

// Program returns the program the link runs.
func (l *Link) Program() *bpfhost.Program { return l.prog.Load() }

// Stats returns the link's counters, summed over its workers; after Close,
// the final counts.
func (l *Link) Stats() Stats {
	var s Stats
	for _, wk := range l.workers {
		s.add(&wk.c)
	}
	return s
}

// Interfaces returns the names of the interfaces the link is attached to.
func (l *Link) Interfaces() []string {
	out := make([]string, len(l.ifaces))
	for i, ifc := range l.ifaces {
		out[i] = ifc.name
	}
	return out
}

// Trace returns the trace lines kept since the last call (when
// Options.Trace is nil), at most 1024.
func (l *Link) Trace() []string {
	l.traceMu.Lock()
	defer l.traceMu.Unlock()
	t := l.trace
	l.trace = nil
	return t
}

func (l *Link) traceLine(line string) {
	if l.opts.Trace != nil {
		l.opts.Trace(line)
		return
	}
	l.traceMu.Lock()
	if len(l.trace) < 1024 {
		l.trace = append(l.trace, line)
	}
	l.traceMu.Unlock()
}

// target resolves an XDP_REDIRECT: the attached interface it goes to, or
// nil. A cpumap target is a local delivery (pass is true).
func target(r *bpfhost.XDPRedirect, slot int) (ifc *iface, pass bool) {
	index := r.Ifindex
	if r.Map != nil {
		switch r.Map.Spec().Type {
		case maps.DevMap, maps.DevMapHash:
			i, ok := maps.DevMapIfindex(r.Map, r.Ifindex, slot)
			if !ok {
				return nil, false
			}
			index = i
		case maps.CPUMap: // the kernel delivers it to the stack of that CPU
			return nil, true
		default:
			return nil, false
		}
	}
	v, ok := attached.Load(int(index))
	if !ok {
		return nil, false
	}
	return v.(*iface), false
}
