package xdp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost"
)

// rxSock is one worker's fanout socket on one interface, with its
// memory-mapped TPACKET_V3 receive ring.
type rxSock struct {
	fd   int
	ifc  *iface
	ring []byte
	next int // the block (TPACKET_V3) or frame slot (TPACKET_V2) to read next
	// v2 selects a TPACKET_V2 ring of frameSize slots (Options.LowLatency).
	v2        bool
	frameSize int
	// vnet is set when a virtio_net_hdr precedes each frame of the ring
	// (PACKET_VNET_HDR, TPACKET_V3 rings): aggregates are segmented.
	vnet bool
	// queue is the rx_queue_index of every frame the socket receives: with
	// PACKET_FANOUT_QM, the k-th member of the group receives the frames of
	// receive queue k (see fanoutPlan).
	queue uint32
}

// v2FrameSize is the TPACKET_V2 slot size for an MTU: the header, the
// frame with a VLAN tag, rounded up to a power of two that divides a block.
func v2FrameSize(mtu int) int {
	need := unix.SizeofTpacket2Hdr + 16 + mtu + 14 + vlanHLen
	size := 2048
	for size < need && size < ringBlockSize {
		size *= 2
	}
	return size
}

// pending is a frame to send at the end of a batch.
type pending struct {
	fd    int
	ifc   *iface // set when fd is another link's inject socket (locked)
	frame int
}

// worker owns a socket per interface of its link, a page per frame of a
// batch (an mmap'd arena: memory that never moves) and the sendmmsg
// vectors; it runs on one goroutine.
type worker struct {
	l      *Link
	id     int
	socks  []rxSock
	pfds   []unix.PollFd
	arena  []byte
	frames []bpfhost.XDPFrame
	from   []int // index in socks of each frame's interface
	lens   []int // received length of each frame
	out    []pending
	msgs   []unix.Mmsghdr
	// sentData are the frames of msgs, for Options.Output once sent.
	sentData [][]byte
	iovs     []unix.Iovec
	c        counters
	tally    tally // the verdicts of the batch act is on
	// vnetZero is the virtio_net_hdr sent before each frame on a socket
	// with PACKET_VNET_HDR: no offload asked.
	vnetZero [vnetHdrLen]byte
	// cpuq holds the frames redirected to the CPUs the worker serves;
	// cpuProgs are the entry programs of a batch taken from it.
	cpuq     *cpuQueue
	cpuProgs []*bpfhost.Program
	// egress are the pages of the copies broadcasts hand to devmap
	// programs, egressUsed of them taken in the current batch; bcast are
	// a broadcast's destinations.
	egress      []bpfhost.XDPFrame
	egressArena []byte
	egressUsed  int
	bcast       []bpfhost.XDPDevMapEntry
}

func newWorker(l *Link, id int) (*worker, error) {
	n := l.opts.batch()
	wk := &worker{l: l, id: id, from: make([]int, n), lens: make([]int, n),
		out: make([]pending, 0, 2*n), msgs: make([]unix.Mmsghdr, 2*n), sentData: make([][]byte, 2*n), iovs: make([]unix.Iovec, 4*n),
		cpuProgs: make([]*bpfhost.Program, n)}
	var err error
	if wk.frames, wk.arena, err = mapPages(n, l.pageSize, "frame pages"); err != nil {
		return nil, err
	}
	if wk.cpuq, err = newCPUQueue(l.pageSize); err != nil {
		wk.close()
		return nil, err
	}
	if wk.egress, wk.egressArena, err = mapPages(n, l.pageSize, "egress pages"); err != nil {
		wk.close()
		return nil, err
	}
	wk.bcast = make([]bpfhost.XDPDevMapEntry, 0, 64)
	return wk, nil
}

// ready sets up the poll set once the worker's sockets are in place.
func (wk *worker) ready() {
	wk.pfds = wk.pfds[:0]
	for i := range wk.socks {
		wk.pfds = append(wk.pfds, unix.PollFd{Fd: int32(wk.socks[i].fd), Events: unix.POLLIN})
	}
	wk.pfds = append(wk.pfds, unix.PollFd{Fd: int32(wk.cpuq.efd), Events: unix.POLLIN},
		unix.PollFd{Fd: int32(wk.l.stop), Events: unix.POLLIN})
}

// openRX opens a fanout socket with a receive ring on ifc. The socket is
// created with protocol 0 (receiving nothing) and bound to ETH_P_ALL on the
// interface only once the ring is in place.
func openRX(ifc *iface, group, mode int, lowLatency bool) (rxSock, error) {
	fail := func(what string, err error) (rxSock, error) {
		return rxSock{}, fmt.Errorf("xdp: %s: %s: %w", ifc.name, what, privilege(err, "CAP_NET_RAW"))
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fail("AF_PACKET socket", err)
	}
	s := rxSock{fd: fd, ifc: ifc}
	closeFail := func(what string, err error) (rxSock, error) {
		s.close()
		return fail(what, err)
	}
	if lowLatency {
		s.v2 = true
		s.frameSize = v2FrameSize(ifc.mtu)
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V2); err != nil {
			return closeFail("TPACKET_V2", err)
		}
		req := unix.TpacketReq{Block_size: ringBlockSize, Block_nr: ringBlocks, Frame_size: uint32(s.frameSize),
			Frame_nr: uint32(ringBlockSize / s.frameSize * ringBlocks)}
		if err := unix.SetsockoptTpacketReq(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
			return closeFail("receive ring", err)
		}
	} else {
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
			return closeFail("TPACKET_V3", err)
		}
		// A block holds a whole aggregate of a local sender's TSO/GSO
		// (up to 64 KiB); the header says how to cut it (gso.go).
		s.vnet = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VNET_HDR, 1) == nil
		req := unix.TpacketReq3{Block_size: ringBlockSize, Block_nr: ringBlocks, Frame_size: ringFrameSize,
			Frame_nr: ringBlockSize / ringFrameSize * ringBlocks, Retire_blk_tov: retireTimeout}
		if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
			return closeFail("receive ring", err)
		}
	}
	ring, err := unix.Mmap(fd, 0, ringBlockSize*ringBlocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_LOCKED)
	if err != nil {
		ring, err = unix.Mmap(fd, 0, ringBlockSize*ringBlocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	}
	if err != nil {
		return closeFail("mmap receive ring", err)
	}
	s.ring = ring
	// Frames this process (or anyone) sends are not received again.
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
		return closeFail("PACKET_IGNORE_OUTGOING", err)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1)
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(ethPAll), Ifindex: ifc.index}); err != nil {
		return closeFail("bind", err)
	}
	// PACKET_IGNORE_OUTGOING does not hold in a fanout group, whose own
	// hook receives for its members: the group needs the flag (Linux 6.9+;
	// before, drain skips outgoing frames, which the kernel still copies).
	err = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_FANOUT, group|(mode|unix.PACKET_FANOUT_FLAG_IGNORE_OUTGOING)<<16)
	if errors.Is(err, unix.EINVAL) {
		err = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_FANOUT, group|mode<<16)
	}
	if err != nil {
		return closeFail("PACKET_FANOUT", err)
	}
	return s, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func (s *rxSock) close() {
	if s.ring != nil {
		_ = unix.Munmap(s.ring)
		s.ring = nil
	}
	if s.fd >= 0 {
		unix.Close(s.fd)
		s.fd = -1
	}
}

func (wk *worker) close() {
	for i := range wk.socks {
		wk.socks[i].close()
	}
	wk.socks = nil
	if wk.arena != nil {
		_ = unix.Munmap(wk.arena)
		wk.arena = nil
	}
	if wk.cpuq != nil {
		wk.cpuq.close()
	}
	if wk.egressArena != nil {
		_ = unix.Munmap(wk.egressArena)
		wk.egressArena = nil
	}
}

// loop receives, runs and sends until the link's stop eventfd fires.
func (wk *worker) loop() {
	defer wk.l.wg.Done()
	// The worker keeps its thread, so that the thread's CPU time is the
	// worker's (Stats.CPUTime); the thread ends with it.
	runtime.LockOSThread()
	if cpus := wk.l.opts.WorkerCPUs; len(cpus) > 0 && cpus[wk.id%len(cpus)] >= 0 {
		var set unix.CPUSet
		set.Set(cpus[wk.id%len(cpus)])
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			wk.l.traceLine(fmt.Sprintf("xdp worker %d: pin to CPU %d: %v", wk.id, cpus[wk.id%len(cpus)], err))
		}
	}
	cpu0 := threadCPU()
	defer func() {
		wk.ringStats()
		wk.c.cpu.Store(uint64(threadCPU() - cpu0))
	}()
	n := 0
	for iter := 0; ; iter++ {
		if iter%64 == 0 {
			wk.ringStats()
		}
		for i := range wk.socks {
			n = wk.drain(i, n)
		}
		if n > 0 {
			wk.flush(n)
			n = 0
		}
		if wk.pfds[len(wk.pfds)-2].Revents != 0 {
			wk.drainCPU()
		}
		// Once a wake-up: a system call per block of frames under load.
		wk.c.cpu.Store(uint64(threadCPU() - cpu0))
		for i := range wk.pfds {
			wk.pfds[i].Revents = 0
		}
		_, err := unix.Poll(wk.pfds, 200)
		if err != nil && err != unix.EINTR {
			wk.l.traceLine(fmt.Sprintf("xdp worker %d: poll: %v", wk.id, err))
			return
		}
		if wk.pfds[len(wk.pfds)-1].Revents != 0 {
			wk.finish()
			return
		}
		for i := range wk.socks {
			if wk.pfds[i].Revents&(unix.POLLERR|unix.POLLNVAL) != 0 {
				wk.sockError(i)
			}
			// A deleted interface first goes down (the error), then away:
			// while it is down, look at least once a poll timeout.
			if wk.socks[i].ifc.down.Load() && wk.gone(i) {
				return
			}
		}
	}
}

// finishWait bounds how long a stopping worker waits for the open blocks
// of its rings to be handed over (the retire timer: a jiffy or two).
const finishWait = time.Second

// finish runs the frames the kernel had put in the worker's rings when the
// link was closed, so that every frame received before Close runs, as
// with generic XDP, which runs each frame as it is received: the blocks
// handed over, and, on TPACKET_V3 rings, the open block that already holds
// frames, which the kernel hands over when its retire timer fires. Frames
// that come meanwhile are run too; the wait ends when each of those blocks
// was run (or after finishWait).
func (wk *worker) finish() {
	n := 0
	for i := range wk.socks {
		n = wk.drain(i, n)
	}
	open := make([]int, len(wk.socks)) // the block each ring waits for, or -1
	for i := range wk.socks {
		open[i] = -1
		if s := &wk.socks[i]; !s.v2 && s.blockFrames(s.next) > 0 {
			open[i] = s.next
		}
	}
	for deadline := time.Now().Add(finishWait); time.Now().Before(deadline); {
		if n > 0 {
			wk.flush(n)
			n = 0
		}
		waiting := false
		for i := range wk.socks {
			waiting = waiting || (open[i] >= 0 && wk.socks[i].next == open[i])
		}
		if !waiting {
			break
		}
		for i := range wk.pfds {
			wk.pfds[i].Revents = 0
		}
		_, _ = unix.Poll(wk.pfds[:len(wk.socks)], 10)
		for i := range wk.socks {
			n = wk.drain(i, n)
		}
	}
	if n > 0 {
		wk.flush(n)
	}
}

// blockFrames returns how many frames the kernel has put so far in block b
// of a TPACKET_V3 ring (a hint while the kernel still fills it).
func (s *rxSock) blockFrames(b int) uint32 {
	desc := (*unix.TpacketBlockDesc)(unsafe.Pointer(&s.ring[b*ringBlockSize]))
	h1 := (*unix.TpacketHdrV1)(unsafe.Pointer(&desc.Hdr[0]))
	return atomic.LoadUint32(&h1.Num_pkts)
}

// sockError handles an error poll reported on socket i: the kernel sets
// ENETDOWN on a packet socket when its interface goes down, also on its way
// to being deleted. The error is read, which clears it (else every poll
// would return at once), and the interface is marked down, with one trace
// line. A link that is only down receives again once it is up (the kernel
// re-adds the socket to its fanout group); gone clears the mark then.
func (wk *worker) sockError(i int) {
	s := &wk.socks[i]
	soerr, _ := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if s.ifc.down.CompareAndSwap(false, true) {
		wk.l.traceLine(fmt.Sprintf("xdp: %s: interface down (%v): no frames until it is up again", s.ifc.name, unix.Errno(soerr)))
	}
}

// gone reports whether the interface of socket i, marked down, went away,
// and then stops the link: a packet socket whose interface was
// unregistered (deleted, or moved out of its network namespace) reports
// ifindex -1. An interface that is up again loses the mark.
func (wk *worker) gone(i int) bool {
	s := &wk.socks[i]
	sa, err := unix.Getsockname(s.fd)
	if err != nil {
		return false
	}
	if ll, ok := sa.(*unix.SockaddrLinklayer); !ok || ll.Ifindex == s.ifc.index {
		if s.ifc.up() {
			s.ifc.down.Store(false)
		}
		return false
	}
	wk.l.fail(fmt.Errorf("xdp: interface %s (index %d) went away (deleted, or its network namespace removed): detached", s.ifc.name, s.ifc.index))
	return true
}

// threadCPU returns the CPU time (ns, user and system) the calling thread
// has used.
func threadCPU() int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// ringStats adds the frames the kernel dropped since the last call because
// a receive ring was full (PACKET_STATISTICS, which resets on reading).
func (wk *worker) ringStats() {
	for i := range wk.socks {
		if st, err := unix.GetsockoptTpacketStatsV3(wk.socks[i].fd, unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
			wk.c.ringDrops.Add(uint64(st.Drops))
		}
	}
}

// Block and packet header fields of TPACKET_V3 (linux/if_packet.h).
const (
	tpStatusUser         = 1 << 0
	tpStatusCsumNotReady = 1 << 3
	tpStatusVLANValid    = 1 << 4
	tpStatusVLANTPID     = 1 << 6
)

// Offsets of sll_pkttype in a ring frame: the kernel writes a sockaddr_ll
// after the aligned packet header (linux/if_packet.h: TPACKET3_HDRLEN).
const (
	sllPkttypeV3 = unix.SizeofTpacket3Hdr + 10
	sllPkttypeV2 = unix.SizeofTpacket2Hdr + 10
)

// drain copies the frames of every block the kernel has handed over on sock
// i into pages, running full batches; it returns the frames pending.
func (wk *worker) drain(i, n int) int {
	s := &wk.socks[i]
	if s.v2 {
		return wk.drainV2(i, n)
	}
	for {
		block := s.ring[s.next*ringBlockSize : (s.next+1)*ringBlockSize]
		desc := (*unix.TpacketBlockDesc)(unsafe.Pointer(&block[0]))
		h1 := (*unix.TpacketHdrV1)(unsafe.Pointer(&desc.Hdr[0]))
		status := (*uint32)(unsafe.Pointer(&h1.Block_status))
		if atomic.LoadUint32(status)&tpStatusUser == 0 {
			return n
		}
		off := int(h1.Offset_to_first_pkt)
		for p := uint32(0); p < h1.Num_pkts && off+unix.SizeofTpacket3Hdr <= len(block); p++ {
			ph := (*unix.Tpacket3Hdr)(unsafe.Pointer(&block[off]))
			start := off + int(ph.Mac)
			if start+int(ph.Snaplen) <= len(block) && block[off+sllPkttypeV3] != unix.PACKET_OUTGOING {
				var vnet []byte
				if s.vnet && int(ph.Mac) >= unix.SizeofTpacket3Hdr+vnetHdrLen {
					vnet = block[start-vnetHdrLen : start]
				}
				n = wk.take(i, n, block[start:start+int(ph.Snaplen)], ph.Len, ph.Status, uint16(ph.Hv1.Vlan_tci), ph.Hv1.Vlan_tpid, vnet)
			}
			if ph.Next_offset == 0 {
				break
			}
			off += int(ph.Next_offset)
		}
		atomic.StoreUint32(status, 0) // TP_STATUS_KERNEL: the block is the kernel's again
		s.next = (s.next + 1) % ringBlocks
	}
}

// drainV2 copies the frames of every TPACKET_V2 slot the kernel has handed
// over on sock i, as drain does for blocks.
func (wk *worker) drainV2(i, n int) int {
	s := &wk.socks[i]
	slots := len(s.ring) / s.frameSize
	for {
		slot := s.ring[s.next*s.frameSize : (s.next+1)*s.frameSize]
		ph := (*unix.Tpacket2Hdr)(unsafe.Pointer(&slot[0]))
		status := (*uint32)(unsafe.Pointer(&ph.Status))
		st := atomic.LoadUint32(status)
		if st&tpStatusUser == 0 {
			return n
		}
		start := int(ph.Mac)
		if start+int(ph.Snaplen) <= len(slot) && slot[sllPkttypeV2] != unix.PACKET_OUTGOING {
			n = wk.take(i, n, slot[start:start+int(ph.Snaplen)], ph.Len, st, ph.Vlan_tci, ph.Vlan_tpid, nil)
		}
		atomic.StoreUint32(status, 0) // TP_STATUS_KERNEL
		s.next = (s.next + 1) % slots
	}
}

// take adds one received frame, or the segments of an aggregate, to the
// batch at n, running the batch whenever it is full; it returns the frames
// pending. vnet is the frame's virtio_net_hdr, if the ring has them.
func (wk *worker) take(sock, n int, data []byte, wireLen, status uint32, vlanTCI, vlanTPID uint16, vnet []byte) int {
	if vnet != nil && vnet[1]&^gsoECN != gsoNone && int(wireLen) == len(data) && len(data) > wk.socks[sock].ifc.mtu+14 {
		return wk.takeSegments(sock, n, data, status, vlanTCI, vlanTPID, vnet)
	}
	if wk.receive(sock, n, data, wireLen, status, vlanTCI, vlanTPID) {
		n++
		if n == len(wk.frames) {
			wk.flush(n)
			n = 0
		}
	}
	return n
}

// takeSegments cuts an aggregate a local sender's TSO/GSO left whole (over
// veth) into the frames its NIC would have sent, each at most the MTU, and
// adds them to the batch as take does. One it cannot cut is oversize.
func (wk *worker) takeSegments(sock, n int, data []byte, status uint32, vlanTCI, vlanTPID uint16, vnet []byte) int {
	ifc := wk.socks[sock].ifc
	p, err := planGSO(data, vnet[1], int(binary.NativeEndian.Uint16(vnet[4:])))
	if err != nil || p.hdrs+p.size > ifc.mtu+14 || p.hdrs+p.size+vlanHLen > wk.l.maxFrame {
		wk.oversize(ifc, len(data), "an aggregate of a sender's TSO/GSO that bpfhost cannot segment (ethtool -K IF tso off gso off on the sender)")
		return n
	}
	vlan := status&tpStatusVLANValid != 0
	for k := 0; k < p.count; k++ {
		f := &wk.frames[n]
		h := bpfhost.XDPHeadroom
		shift := 0
		if vlan {
			shift = vlanHLen
		}
		size := p.segment(f.Page[h+shift:], data, k) + shift
		if vlan {
			copy(f.Page[h:h+12], f.Page[h+shift:h+shift+12])
			putVLAN(f.Page[h+12:], status, vlanTCI, vlanTPID)
		}
		f.Meta, f.Data, f.End = h, h, h+size
		f.IngressIfindex = uint32(ifc.index)
		f.RxQueueIndex = wk.socks[sock].queue
		wk.from[n] = sock
		wk.c.segments.Add(1)
		n++
		if n == len(wk.frames) {
			wk.flush(n)
			n = 0
		}
	}
	return n
}

// putVLAN writes the tag the kernel moved to metadata (TPID, TCI).
func putVLAN(b []byte, status uint32, tci, tpid uint16) {
	if status&tpStatusVLANTPID == 0 {
		tpid = 0x8100
	}
	binary.BigEndian.PutUint16(b, tpid)
	binary.BigEndian.PutUint16(b[2:], tci)
}

// up reports whether the interface is up (IFF_UP), through its inject
// socket.
func (ifc *iface) up() bool {
	ifc.mu.Lock()
	defer ifc.mu.Unlock()
	ifr, err := unix.NewIfreq(ifc.name)
	if err != nil || ifc.fd < 0 || unix.IoctlIfreq(ifc.fd, unix.SIOCGIFFLAGS, ifr) != nil {
		return false
	}
	return ifr.Uint16()&unix.IFF_UP != 0
}

// mtuNow reads the interface's MTU now (through its inject socket, in the
// interface's network namespace), or returns 0.
func (ifc *iface) mtuNow() int {
	ifc.mu.Lock()
	defer ifc.mu.Unlock()
	ifr, err := unix.NewIfreq(ifc.name)
	if err != nil || ifc.fd < 0 || unix.IoctlIfreq(ifc.fd, unix.SIOCGIFMTU, ifr) != nil {
		return 0
	}
	return int(ifr.Uint32())
}

// oversize counts a frame of size bytes dropped as over the MTU, and
// explains the first of the link in a trace line.
func (wk *worker) oversize(ifc *iface, size int, why string) {
	wk.c.oversize.Add(1)
	if wk.l.oversizeNoted.CompareAndSwap(false, true) {
		wk.l.traceLine(fmt.Sprintf("xdp: %s: frame of %d bytes over the MTU (%d) dropped: %s; counted as oversize, noted once",
			ifc.name, size, ifc.mtu, why))
	}
}

// receive copies one frame (wireLen bytes on the wire, data as captured,
// with the packet header's status and VLAN fields) into page n; it reports
// false for frames dropped before the program runs.
func (wk *worker) receive(sock, n int, data []byte, wireLen, status uint32, vlanTCI, vlanTPID uint16) bool {
	ifc := wk.socks[sock].ifc
	size := len(data)
	vlan := status&tpStatusVLANValid != 0 && len(data) >= 12
	if vlan {
		size += vlanHLen
	}
	limit := ifc.mtu + 14
	if vlan {
		limit += vlanHLen
	}
	if int(wireLen) > len(data) || size > limit || size > wk.l.maxFrame || size < 14 {
		if int(wireLen) <= limit {
			wk.c.oversize.Add(1) // truncated by the ring, or a runt
			return false
		}
		why := "an aggregate of segments (GSO/TSO on the sender, e.g. the veth peer: ethtool -K IF tso off gso off)"
		if wk.socks[sock].v2 {
			why += "; TPACKET_V2 rings (--low-latency) cannot hold aggregates for bpfhost to segment"
		}
		if !wk.l.oversizeNoted.Load() {
			if mtu := ifc.mtuNow(); mtu > ifc.mtu {
				why = fmt.Sprintf("the MTU was raised to %d after attach: frames must fit the MTU at attach (detach and attach again)", mtu)
			}
		}
		wk.oversize(ifc, int(wireLen), why)
		return false
	}
	f := &wk.frames[n]
	page := f.Page
	h := bpfhost.XDPHeadroom
	if vlan {
		// The kernel moved the tag to metadata; the program sees it in the
		// frame, as on the wire.
		copy(page[h:], data[:12])
		putVLAN(page[h+12:], status, vlanTCI, vlanTPID)
		copy(page[h+16:], data[12:])
	} else {
		copy(page[h:], data)
	}
	if status&tpStatusCsumNotReady != 0 {
		completeChecksum(page[h : h+size])
	}
	f.Meta, f.Data, f.End = h, h, h+size
	f.IngressIfindex = uint32(ifc.index)
	f.RxQueueIndex = wk.socks[sock].queue
	wk.from[n] = sock
	return true
}

// flush runs the program on frames [0, n) and acts on the verdicts.
func (wk *worker) flush(n int) {
	frames := wk.frames[:n]
	lens := wk.lens[:n]
	for i := range frames {
		lens[i] = frames[i].End - frames[i].Data
	}
	prog := wk.l.prog.Load() // Update swaps it between batches
	slot, err := prog.RunXDPBatch(frames)
	if err != nil {
		wk.l.traceLine(fmt.Sprintf("xdp: %v", err))
		return
	}
	wk.act(0, n, prog, slot, false)
}

// act sends, hands on or drops frames [from, to) by their verdicts, which
// prog gave in slot; cpumap is set for the verdicts of a cpumap entry's
// program (nil: none), on frames an earlier program redirected to a CPU.
func (wk *worker) act(from, to int, prog *bpfhost.Program, slot int, cpumap bool) {
	wk.out = wk.out[:0]
	wk.egressUsed = 0
	for i := from; i < to; i++ {
		f := &wk.frames[i]
		if cpumap {
			wk.c.countCPUMap(f.Action, f.End-f.Data, f.Duration)
		} else {
			wk.tally.count(f.Action, wk.lens[i], f.Duration)
		}
		in := &wk.socks[wk.from[i]]
		if cpumap && (f.Action == TX || f.Action > Redirect) {
			wk.l.traceLine(fmt.Sprintf("xdp_exception: cpumap prog=%s action=%d (invalid) ifindex=%d", prog.Name(), f.Action, in.ifc.index))
			continue
		}
		switch f.Action {
		case Drop:
		case Pass:
			if wk.l.bridge {
				wk.queueTo(wk.l.peer(in.ifc), i)
			}
		case TX:
			if wk.l.bridge {
				wk.queue(in.fd, nil, i)
			}
		case Redirect:
			r := &f.Redirect
			mt := r.MapType()
			if mt == bpfhost.MapCPUMap {
				if cpumap {
					wk.redirectError(in.ifc, r.Ifindex) // no second hand-over
				} else {
					wk.toCPU(i, in.ifc, slot)
				}
				break
			}
			if !wk.l.bridge {
				break
			}
			if mt != 0 && r.Flags&flagBroadcast != 0 {
				wk.broadcast(r, i, in.ifc, slot)
				break
			}
			ifc, eprog, err := target(r, slot, in.ifc)
			switch {
			case ifc == nil || err != nil:
				wk.redirectError(in.ifc, r.Ifindex)
			case eprog == nil:
				wk.queueTo(ifc, i)
			default:
				if e := wk.runEgress(i, ifc, eprog, false); e >= 0 {
					wk.queueTo(ifc, e)
				}
			}
		case Aborted:
			msg := "XDP_ABORTED"
			if f.Err != nil {
				msg = f.Err.Error()
			}
			wk.l.traceLine(fmt.Sprintf("xdp_exception: prog=%s action=XDP_ABORTED ifindex=%d: %s", progName(prog), in.ifc.index, msg))
		default:
			wk.l.traceLine(fmt.Sprintf("xdp_exception: prog=%s action=%d (invalid) ifindex=%d", progName(prog), f.Action, in.ifc.index))
		}
	}
	wk.c.addTally(&wk.tally)
	wk.send()
}

func progName(p *bpfhost.Program) string {
	if p == nil {
		return "(none)"
	}
	return p.Name()
}

// Redirect flags of bpf_redirect_map (linux/bpf.h).
const (
	flagBroadcast      = 1 << 3 // BPF_F_BROADCAST
	flagExcludeIngress = 1 << 4 // BPF_F_EXCLUDE_INGRESS
)

// queueTo queues frame for an attached interface: through the worker's own
// socket when the interface is its link's, else through the interface's
// inject socket.
func (wk *worker) queueTo(ifc *iface, frame int) {
	if ifc.link == wk.l {
		for j := range wk.socks {
			if wk.socks[j].ifc == ifc {
				wk.queue(wk.socks[j].fd, nil, frame)
				return
			}
		}
	}
	wk.queue(-1, ifc, frame)
}

func (wk *worker) redirectError(in *iface, to uint32) {
	wk.c.redirectErrors.Add(1)
	wk.l.traceLine(fmt.Sprintf("xdp_redirect_err: prog=%s ifindex=%d to_ifindex=%d err=ENODEV (not attached in this process)",
		wk.l.prog.Load().Name(), in.index, to))
}

func (wk *worker) queue(fd int, ifc *iface, frame int) {
	wk.out = append(wk.out, pending{fd: fd, ifc: ifc, frame: frame})
}

// send writes the queued frames with one sendmmsg per destination socket.
func (wk *worker) send() {
	out := wk.out
	for len(out) > 0 {
		fd, ifc := out[0].fd, out[0].ifc
		// A socket with PACKET_VNET_HDR sends each frame after a
		// virtio_net_hdr: a zero one, the frame as it is.
		vnet := ifc == nil && wk.vnetSocket(fd)
		k := 0
		for j := range out {
			p := out[j]
			if p.fd != fd || p.ifc != ifc {
				continue
			}
			f := wk.frameAt(p.frame)
			data := f.Page[f.Data:f.End]
			if k == len(wk.msgs) {
				wk.transmit(fd, ifc, k)
				k = 0
			}
			iov := wk.iovs[2*k : 2*k+2]
			iov[0] = unix.Iovec{Base: &wk.vnetZero[0], Len: vnetHdrLen}
			iov[1] = unix.Iovec{Base: &data[0], Len: uint64(len(data))}
			if !vnet {
				iov = iov[1:]
			}
			wk.msgs[k] = unix.Mmsghdr{Hdr: unix.Msghdr{Iov: &iov[0], Iovlen: uint64(len(iov))}}
			wk.sentData[k] = data
			k++
		}
		wk.transmit(fd, ifc, k)
		// Keep only the other destinations, in order.
		m := 0
		for j := range out {
			if out[j].fd != fd || out[j].ifc != ifc {
				out[m] = out[j]
				m++
			}
		}
		out = out[:m]
	}
}

// vnetSocket reports whether fd is one of the worker's sockets with
// PACKET_VNET_HDR.
func (wk *worker) vnetSocket(fd int) bool {
	for i := range wk.socks {
		if wk.socks[i].fd == fd {
			return wk.socks[i].vnet
		}
	}
	return false
}

// transmit sends the first k prepared messages on fd, or on ifc's inject
// socket.
func (wk *worker) transmit(fd int, ifc *iface, k int) {
	index := wk.outIndex(fd, ifc) // of the interface they leave on
	if ifc == nil {
		wk.sendmmsg(fd, k, index)
		return
	}
	ifc.mu.Lock()
	wk.sendmmsg(ifc.fd, k, index)
	ifc.mu.Unlock()
}

func (wk *worker) outIndex(fd int, ifc *iface) int {
	if ifc != nil {
		return ifc.index
	}
	for i := range wk.socks {
		if wk.socks[i].fd == fd {
			return wk.socks[i].ifc.index
		}
	}
	return 0
}

// sendmmsg sends the first k prepared messages on fd and hands those the
// kernel took to Options.Output (index: the interface's); a frame it refused
// did not leave: it is counted, and traced when the error is not the one
// traced last.
func (wk *worker) sendmmsg(fd, k, index int) {
	done := 0
	for done < k && fd >= 0 {
		r, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&wk.msgs[done])), uintptr(k-done), 0, 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			// The frame at done was refused (too long, interface down):
			// count it and go on with the next.
			wk.c.txErrors.Add(1)
			if wk.l.txErrNoted.Swap(uint32(errno)) != uint32(errno) {
				wk.l.traceLine(fmt.Sprintf("xdp: frame of %d bytes not sent on ifindex %d: %v; counted as tx_error, noted once per error",
					len(wk.sentData[done]), index, errno))
			}
			done++
			continue
		}
		if r == 0 {
			break
		}
		wk.c.sent.Add(uint64(r))
		if out := wk.l.opts.Output; out != nil {
			for _, data := range wk.sentData[done : done+int(r)] {
				out(index, data)
			}
		}
		done += int(r)
	}
	if fd < 0 {
		wk.c.txErrors.Add(uint64(k))
	}
}
