package xdp

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// XDP actions, the return values of an XDP program.
const (
	Aborted  = 0 // XDP_ABORTED
	Drop     = 1 // XDP_DROP
	Pass     = 2 // XDP_PASS
	TX       = 3 // XDP_TX
	Redirect = 4 // XDP_REDIRECT
)

// ActionNames are the names of the XDP actions, by value.
var ActionNames = [...]string{"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"}

// ErrNotSupported is returned by Attach on systems without AF_PACKET.
var ErrNotSupported = errors.New("not supported on OS")

// Options configure Attach.
type Options struct {
	// Interface is the name of the interface to attach to.
	Interface string
	// Peer, if set, selects bridge mode: frames the program passes on one
	// interface leave on the other. Empty selects monitor mode.
	Peer string
	// Workers is the number of workers (and of fanout sockets per
	// interface); 0 means the number of CPUs.
	Workers int
	// LowLatency receives with TPACKET_V2 rings, which hand over each
	// frame at once, instead of TPACKET_V3 rings, which hand over blocks
	// of frames when full or after 1 ms: lower latency at low rates, more
	// work per frame under load.
	LowLatency bool
	// FlowHash spreads the frames of a single-queue interface over the
	// workers by flow hash (PACKET_FANOUT_HASH) instead of by the CPU that
	// received them (PACKET_FANOUT_CPU, the default, where generic XDP
	// would run them): more workers busy when one CPU receives many flows
	// (a single-queue NIC without RPS), at the cost of a flow dissection
	// per frame on that CPU (about 140 ns here). Interfaces with several
	// receive queues fan out by queue either way.
	FlowHash bool
	// KeepOffloads leaves the interfaces' receive offloads as they are.
	// By default Attach turns off GRO and LRO where they are on (Close
	// turns them on again): they aggregate received segments into frames
	// larger than the MTU, which XDP cannot run on (dropped as oversize).
	KeepOffloads bool
	// Batch is the most frames a worker runs in one execution slot; 0
	// means 64.
	Batch int
	// WorkerCPUs, if not empty, pins worker w's thread to CPU
	// WorkerCPUs[w mod len(WorkerCPUs)] (a negative entry: not pinned); a
	// CPU the thread cannot run on leaves a trace line and the worker
	// unpinned. With fanout by CPU, worker w receives the frames of CPUs c
	// with c mod workers = w: where a NIC's interrupts or RPS put the
	// receive path on CPU c, its worker can run on another CPU instead of
	// competing with that softirq (docs/decisions/0015-xdp-data-path.md,
	// "Where the receive work runs").
	WorkerCPUs []int
	// Trace, if not nil, receives a line for each XDP_ABORTED frame and
	// each frame that could not be sent (as the kernel's xdp_exception
	// tracepoint); nil keeps the last lines for Link.Trace.
	Trace func(line string)
	// Output, if not nil, is called with every frame that leaves bpfhost and
	// the index of the interface it leaves on, once the kernel took it (a
	// frame it refused, counted in Stats.TXErrors, did not leave), from the
	// worker's goroutine; the frame is only valid during the call.
	Output func(ifindex int, frame []byte)
}

func (o *Options) batch() int {
	if o.Batch <= 0 {
		return 64
	}
	return o.Batch
}

// VerdictStats count the frames of one verdict.
type VerdictStats struct {
	Packets uint64
	Bytes   uint64        // frame bytes as received
	Time    time.Duration // time the program ran for them
}

// Stats are a link's counters since Attach.
type Stats struct {
	// Packets and Bytes count every frame the program ran on.
	Packets, Bytes uint64
	// Verdicts counts by action (indexed by Aborted ... Redirect).
	Verdicts [5]VerdictStats
	// Invalid counts return values that are no XDP action (dropped and
	// traced, as Linux's bpf_warn_invalid_xdp_action).
	Invalid VerdictStats
	// Oversize counts frames longer than the interface MTU allows (or
	// than an XDP page holds), dropped without running the program.
	Oversize uint64
	// Segments counts the frames bpfhost cut from aggregates a local
	// sender's TSO/GSO left whole (over veth), as its NIC would have cut
	// them, each run as a frame of its own (TPACKET_V3 rings only).
	Segments uint64
	// CPUTime is the CPU time (user and system) the workers' threads used:
	// receiving, running programs, sending, and what the kernel runs on
	// their behalf while they send (over veth, the far side's receive
	// path). Updated as they go; final after Close.
	CPUTime time.Duration
	// RedirectErrors counts XDP_REDIRECT frames whose target is not an
	// interface attached in this process (dropped).
	RedirectErrors uint64
	// TXErrors counts frames the kernel refused to send.
	TXErrors uint64
	// Sent counts frames that left bpfhost on any interface.
	Sent uint64
	// RingDrops counts frames the kernel dropped because a receive ring
	// was full: the workers fell behind.
	RingDrops uint64
	// CPUMap counts, by action, the verdicts on frames redirected to a
	// cpumap entry, given by the entry's program on the worker serving
	// that CPU (XDP_PASS for entries without one); TX and invalid actions
	// are added to Invalid.
	CPUMap [5]VerdictStats
	// DevMap counts, by action, the verdicts of devmap entries' programs
	// on the frames redirected to their interfaces (XDP_PASS: sent);
	// other actions than XDP_PASS and XDP_DROP are traced and dropped.
	DevMap [5]VerdictStats
	// CPUMapDrops counts frames dropped because the target CPU's queue
	// was full (the entry's qsize, at most 256).
	CPUMapDrops uint64
}

// counters are one worker's statistics, written by the worker only.
type counters struct {
	verdicts                                                         [6][3]atomic.Uint64 // packets, bytes, ns; [5] invalid
	cpumap                                                           [6][3]atomic.Uint64 // [5]: TX and invalid
	devmap                                                           [6][3]atomic.Uint64 // [5]: invalid
	oversize, redirectErrors, txErrors, sent, ringDrops, cpumapDrops atomic.Uint64
	segments                                                         atomic.Uint64
	cpu                                                              atomic.Uint64 // ns of the worker's thread
	_                                                                [64]byte
}

// tally sums one batch's verdicts (packets, bytes, ns by action; [5]:
// invalid) in plain memory: the counters' atomics are added once a batch,
// not three times a frame.
type tally [6][3]uint64

func (t *tally) count(action uint32, bytes int, d time.Duration) {
	i := min(int(action), 5)
	t[i][0]++
	t[i][1] += uint64(bytes)
	t[i][2] += uint64(d)
}

// addTally adds a batch's verdicts and clears t.
func (c *counters) addTally(t *tally) {
	for i := range t {
		if t[i][0] != 0 {
			for j := range t[i] {
				c.verdicts[i][j].Add(t[i][j])
			}
		}
	}
	*t = tally{}
}

// countCPUMap counts a cpumap entry program's verdict; TX and invalid
// actions count as invalid.
func (c *counters) countCPUMap(action uint32, bytes int, d time.Duration) {
	i := int(action)
	if action == TX || action > Redirect {
		i = 5
	}
	add(&c.cpumap[i], bytes, d)
}

// countDevMap counts a devmap entry program's verdict.
func (c *counters) countDevMap(action uint32, bytes int, d time.Duration) {
	i := min(int(action), 5)
	add(&c.devmap[i], bytes, d)
}

func add(v *[3]atomic.Uint64, bytes int, d time.Duration) {
	v[0].Add(1)
	v[1].Add(uint64(bytes))
	v[2].Add(uint64(d))
}

func (s *Stats) add(c *counters) {
	for i := range c.verdicts {
		v := VerdictStats{Packets: c.verdicts[i][0].Load(), Bytes: c.verdicts[i][1].Load(), Time: time.Duration(c.verdicts[i][2].Load())}
		if i == 5 {
			s.Invalid.Packets += v.Packets
			s.Invalid.Bytes += v.Bytes
			s.Invalid.Time += v.Time
		} else {
			s.Verdicts[i].Packets += v.Packets
			s.Verdicts[i].Bytes += v.Bytes
			s.Verdicts[i].Time += v.Time
		}
		s.Packets += v.Packets
		s.Bytes += v.Bytes
	}
	s.Oversize += c.oversize.Load()
	s.Segments += c.segments.Load()
	s.CPUTime += time.Duration(c.cpu.Load())
	s.RedirectErrors += c.redirectErrors.Load()
	s.TXErrors += c.txErrors.Load()
	s.Sent += c.sent.Load()
	s.RingDrops += c.ringDrops.Load()
	s.CPUMapDrops += c.cpumapDrops.Load()
	for i := range c.cpumap {
		v, w := &s.Invalid, &s.Invalid
		if i < 5 {
			v, w = &s.CPUMap[i], &s.DevMap[i]
		}
		v.Packets += c.cpumap[i][0].Load()
		v.Bytes += c.cpumap[i][1].Load()
		v.Time += time.Duration(c.cpumap[i][2].Load())
		w.Packets += c.devmap[i][0].Load()
		w.Bytes += c.devmap[i][1].Load()
		w.Time += time.Duration(c.devmap[i][2].Load())
	}
}

// CheckProgram reports why prog cannot be attached to an interface (nil:
// it can): it must be an XDP program and not the entry program of a
// devmap or cpumap (SEC("xdp/devmap"), SEC("xdp/cpumap")), as for Linux.
func CheckProgram(prog *bpfhost.Program) error { return checkProgram(prog) }

func checkProgram(prog *bpfhost.Program) error {
	if prog == nil {
		return errors.New("xdp: no program")
	}
	if prog.Type() != "xdp" {
		return fmt.Errorf("xdp: program %q is a %s program, want xdp", prog.Name(), prog.Type())
	}
	// As Linux's dev_xdp_attach: entry programs of devmap and cpumap
	// entries run only from those maps.
	switch prog.TypeInfo().Attach {
	case linux.AttachXDPDevMap:
		return fmt.Errorf("xdp: program %q (SEC(%q)) is a devmap entry program: it runs from a devmap entry, it cannot be attached to an interface", prog.Name(), prog.Section())
	case linux.AttachXDPCPUMap:
		return fmt.Errorf("xdp: program %q (SEC(%q)) is a cpumap entry program: it runs from a cpumap entry, it cannot be attached to an interface", prog.Name(), prog.Section())
	}
	return nil
}
