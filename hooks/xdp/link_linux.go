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
	"github.com/bpfhost/bpfhost/internal/ethtool"
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
	// ns holds the attached interfaces of the interface's namespace.
	ns *netnsIfaces
	mu sync.Mutex // guards inject
	fd int        // inject socket, -1 once closed
	// rxQueues is the number of receive queues (1 when unknown).
	rxQueues int
	// down is set once a trace line said the interface went down, and
	// cleared when it is up again (see worker.sockError, worker.gone).
	down atomic.Bool
	// offloads are those Attach turned off, turned on again at Close.
	offloads []offload
}

// netnsIfaces are the interfaces of every live link in one network
// namespace, by ifindex: the targets of XDP_REDIRECT from that namespace.
// Interface indexes are per namespace (two namespaces' veths are often
// both 2), as bpf_redirect resolves them in the namespace of the frame's
// interface.
type netnsIfaces struct {
	ifaces sync.Map // int -> *iface
}

// namespaces holds a netnsIfaces per network namespace, by the inode of
// the namespace; entries stay (a namespace reusing the inode of one gone
// finds it empty).
var namespaces sync.Map // uint64 -> *netnsIfaces

// netnsOf returns the interfaces attached in the network namespace of
// socket fd.
func netnsOf(fd int) *netnsIfaces {
	var ino uint64
	var st unix.Stat_t
	if nsfd, err := unix.IoctlRetInt(fd, unix.SIOCGSKNS); err == nil {
		if unix.Fstat(nsfd, &st) == nil {
			ino = st.Ino
		}
		unix.Close(nsfd)
	} else if unix.Stat("/proc/thread-self/ns/net", &st) == nil {
		ino = st.Ino // the caller's: where the socket was made
	}
	v, _ := namespaces.LoadOrStore(ino, &netnsIfaces{})
	return v.(*netnsIfaces)
}

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
	// done is closed, and err set, when the link stops by itself (an
	// interface went away).
	done     chan struct{}
	failOnce sync.Once
	err      error
	// pageSize is the size of the pages frames are copied into, for the
	// largest MTU of the interfaces at Attach; maxFrame is the largest
	// frame a page holds.
	pageSize, maxFrame int
	// txErrNoted is the errno of the last send error traced.
	txErrNoted atomic.Uint32
	// oversizeNoted is set once a trace line explained an oversize frame.
	oversizeNoted atomic.Bool

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
	l := &Link{opts: opts, bridge: opts.Peer != "", stop: -1, done: make(chan struct{})}
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
		if !opts.KeepOffloads {
			if err := ifc.offloadsOff(); err != nil {
				return nil, err
			}
		}
	}
	mtu := 0
	for _, ifc := range l.ifaces {
		mtu = max(mtu, ifc.mtu)
	}
	l.sizePages(mtu)
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("xdp: eventfd: %w", err)
	}
	l.stop = efd
	for w := 0; w < workers; w++ {
		wk, err := newWorker(l, w)
		if err != nil {
			return nil, err
		}
		l.workers = append(l.workers, wk)
	}
	for _, ifc := range l.ifaces {
		if err := l.openSockets(ifc, fanoutGroup()); err != nil {
			return nil, err
		}
	}
	for _, wk := range l.workers {
		wk.ready()
	}
	if l.bridge {
		for _, ifc := range l.ifaces {
			if err := promisc(ifc.fd, ifc.index); err != nil {
				return nil, fmt.Errorf("xdp: %s: promiscuous mode: %w", ifc.name, privilege(err, "CAP_NET_ADMIN"))
			}
		}
	}
	for _, ifc := range l.ifaces {
		if _, dup := ifc.ns.ifaces.LoadOrStore(ifc.index, ifc); dup {
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

// openSockets opens ifc's fanout sockets and deals them to the workers in
// turn, in the order they join the group (see fanoutPlan).
func (l *Link) openSockets(ifc *iface, group int) error {
	cpus := runtime.NumCPU()
	if l.opts.FlowHash {
		cpus = 0 // more workers than CPUs: by flow hash
	}
	n, mode := fanoutPlan(ifc.rxQueues, len(l.workers), cpus)
	for k := 0; k < n; k++ {
		s, err := openRX(ifc, group, mode, l.opts.LowLatency)
		if err != nil {
			return err
		}
		s.queue = memberQueue(k, ifc.rxQueues)
		wk := l.workers[k%len(l.workers)]
		wk.socks = append(wk.socks, s)
	}
	return nil
}

// fanoutPlan decides how an interface with rxQueues receive queues is read
// by workers workers on a machine with cpus CPUs: n sockets in a fanout
// group of the given mode.
//
// An interface with one receive queue (or whose queues are unknown) has
// one socket per worker, every frame queue 0, as for the kernel's generic
// XDP. With no more workers than CPUs, PACKET_FANOUT_CPU hands a frame to
// worker (receiving CPU mod workers): the CPU where generic XDP would run
// it, so frames keep the order the kernel received them in on each CPU,
// and the receiving CPU (the sender's, over veth) pays no flow hash per
// frame (docs/decisions/0015-xdp-data-path.md, "Fanout"). With more workers
// than CPUs (or Options.FlowHash: cpus 0), PACKET_FANOUT_HASH spreads flows
// over all of them.
//
// With several queues, PACKET_FANOUT_QM sends a frame to member
// (skb->queue_mapping mod members). A driver records receive queue q as
// queue_mapping q+1 (0: none recorded), and generic XDP reports
// queue_mapping-1, or 0 when none is recorded or it is out of range. So
// there is a socket for each queue_mapping 0..rxQueues (and at least one per
// worker), the k-th to join receiving rx_queue_index memberQueue(k), dealt
// to worker k mod workers.
func fanoutPlan(rxQueues, workers, cpus int) (n, mode int) {
	if rxQueues <= 1 {
		if workers <= cpus {
			return workers, unix.PACKET_FANOUT_CPU
		}
		return workers, unix.PACKET_FANOUT_HASH
	}
	return max(workers, rxQueues+1), unix.PACKET_FANOUT_QM
}

// memberQueue is the rx_queue_index of the frames the k-th member of a
// PACKET_FANOUT_QM group receives (see fanoutPlan).
func memberQueue(k, rxQueues int) uint32 {
	if k == 0 || k > rxQueues {
		return 0
	}
	return uint32(k - 1)
}

// maxQueues bounds the sockets opened per interface for its queues.
const maxQueues = 64

// rxQueues returns the number of receive queues of the interface (rx-only
// plus combined channels), or 1 when the driver does not say.
func rxQueues(fd int, name string) int {
	ch, err := ethtool.GetChannels(fd, name)
	if err != nil {
		return 1
	}
	return min(max(int(ch.RX+ch.Combined), 1), maxQueues)
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
	ifc := &iface{name: name, index: ni.Index, mtu: ni.MTU, link: l, fd: fd, ns: netnsOf(fd)}
	// Protocol 0: the socket sends but receives nothing.
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ni.Index}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("xdp: %s: bind: %w", name, err)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1)
	ifc.rxQueues = rxQueues(fd, name)
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
	// The interfaces stay redirect targets until the workers have run what
	// the rings hold (finish); release removes them.
	var one [8]byte
	one[0] = 1
	if l.stop >= 0 {
		_, _ = unix.Write(l.stop, one[:])
	}
	l.wg.Wait()
	l.release()
	return nil
}

// Done returns a channel that is closed when the link stops by itself,
// before Close: an interface it is attached to went away (deleted, or its
// network namespace removed). Err says why. Close must still be called.
func (l *Link) Done() <-chan struct{} { return l.done }

// Err returns why the link stopped by itself (see Done), or nil.
func (l *Link) Err() error {
	select {
	case <-l.done:
		return l.err
	default:
		return nil
	}
}

// fail stops the link's workers because of err, once, and closes done.
func (l *Link) fail(err error) {
	l.failOnce.Do(func() {
		l.err = err
		var one [8]byte
		one[0] = 1
		_, _ = unix.Write(l.stop, one[:])
		close(l.done)
	})
}

// release frees what Attach acquired; the workers have stopped.
func (l *Link) release() {
	for _, wk := range l.workers {
		wk.close() // its counters stay for Stats
	}
	for _, ifc := range l.ifaces {
		ifc.ns.ifaces.CompareAndDelete(ifc.index, ifc)
		ifc.mu.Lock()
		if ifc.fd >= 0 {
			ifc.restoreOffloads()
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

// peer returns the other interface of a bridge.
func (l *Link) peer(ifc *iface) *iface {
	if l.ifaces[0] == ifc {
		return l.ifaces[1]
	}
	return l.ifaces[0]
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
