package bpfhost

import (
	"fmt"
	"runtime"
	"time"
	"unsafe"

	"github.com/bpfhost/bpfhost/helpers"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// XDP geometry of a live frame, as Linux lays out a packet page.
const (
	// XDPHeadroom is XDP_PACKET_HEADROOM: the bytes in front of a frame
	// that bpf_xdp_adjust_head and bpf_xdp_adjust_meta may grow into.
	XDPHeadroom = xdpHeadroom
	// XDPPageSize is the size of the buffer an XDP frame lives in: the
	// headroom, the frame, and tailroom for bpf_xdp_adjust_tail (Linux
	// keeps skb_shared_info at the end of the page; bpfhost keeps it free).
	XDPPageSize = pageSize
	// XDPMaxFrame is the largest frame a page holds after the headroom and
	// the room Linux reserves for skb_shared_info.
	XDPMaxFrame = xdpMaxData
)

// XDPFrame is one frame a hook (hooks/xdp) hands to Program.RunXDPBatch,
// and what the run made of it.
type XDPFrame struct {
	// Page is the frame's buffer: its first byte is data_hard_start and
	// its end is as far as bpf_xdp_adjust_tail may grow the frame. It must
	// be memory that never moves nor is freed while the batch runs (an
	// mmap'd arena, or a heap slice the caller keeps alive).
	Page []byte
	// Data and End are the offsets of the frame in Page; Meta is the
	// offset of the metadata (Meta == Data: none). The run updates them.
	Meta, Data, End int
	// IngressIfindex and RxQueueIndex are what xdp_md reports.
	IngressIfindex, RxQueueIndex uint32
	// EgressIfindex is xdp_md's egress_ifindex: the interface a devmap
	// entry's program runs for (0 elsewhere).
	EgressIfindex uint32

	// Action is the program's verdict (XDP_ABORTED ... XDP_REDIRECT; any
	// other return value is left as the program returned it).
	Action uint32
	// Redirect is where bpf_redirect or bpf_redirect_map sent an
	// XDP_REDIRECT frame.
	Redirect XDPRedirect
	// Err is why the run stopped, if it failed; Action is then
	// XDP_ABORTED.
	Err error
	// Duration is the time the program ran, with the building of its
	// context (RunXDPBatch reads the clock once between two frames).
	Duration time.Duration
}

// XDPEntryProgram returns the program with a process-wide ID (see
// Program.ID) that a cpumap entry (struct bpf_cpumap_val; devmap false) or
// a devmap entry (struct bpf_devmap_val; devmap true) names where Linux
// takes a program file descriptor. As Linux, it must be an XDP program for
// that attach point (SEC("xdp/cpumap"), SEC("xdp/devmap")).
func XDPEntryProgram(id uint32, devmap bool) (*Program, error) {
	v, ok := registry.programs.Load(id)
	if !ok {
		return nil, fmt.Errorf("%w: no program with ID %d", ErrInvalid, id)
	}
	p := v.(*Program)
	want, sec := linux.AttachXDPCPUMap, "xdp/cpumap"
	if devmap {
		want, sec = linux.AttachXDPDevMap, "xdp/devmap"
	}
	if p.info.TestRun != platform.TestRunXDP || p.info.Attach != want {
		return nil, fmt.Errorf("%w: program %q (ID %d) is no %s program", ErrInvalid, p.name, id, sec)
	}
	return p, nil
}

// liveFrameRun are the options of one run on a live frame: once, with no
// deadline but the instruction budget, timed by RunXDPBatch. execIn only
// reads them.
var liveFrameRun = RunOptions{untimed: true}

// RunXDPBatch runs an XDP program on each frame of a batch, holding one
// execution slot for the whole batch (DESIGN.md #3, #8): the context is
// built through the same descriptor and slot memory as a test run, and
// nothing is allocated per frame. It returns the slot it ran on.
//
// A frame whose run fails gets XDP_ABORTED and Err; the other frames
// still run.
func (p *Program) RunXDPBatch(frames []XDPFrame) (int, error) {
	if p.closed.Load() {
		return 0, fmt.Errorf("program %q: %w", p.name, ErrClosed)
	}
	if p.info.TestRun != platform.TestRunXDP {
		return 0, fmt.Errorf("program %q: %w: %s programs do not run on XDP frames", p.name, ErrNotSupported, p.info.Name)
	}
	slot, rc := p.coll.slots.acquire()
	if rc == nil {
		return 0, fmt.Errorf("program %q: %w", p.name, ErrClosed)
	}
	defer p.coll.slots.release(slot)
	sc := &p.coll.slots.scratch[slot]
	ctx := &sc.xdp
	run := &sc.run
	// One clock read between two frames times both (a frame's Duration
	// includes building its context): a read costs tens of ns in some
	// VMs, as much as a short program.
	prev := time.Since(clockBase)
	for i := range frames {
		f := &frames[i]
		if f.Data < xdpHeadroom || f.Meta > f.Data || f.Meta < 0 || f.End < f.Data || f.End > len(f.Page) {
			f.Action, f.Duration, f.Err = 0, 0, fmt.Errorf("%w: XDP frame [%d,%d) in a page of %d bytes: want the data after %d bytes of headroom", ErrInvalid, f.Data, f.End, len(f.Page), xdpHeadroom)
			continue
		}
		if f.Data-f.Meta > platform.MaxMetaSize {
			// The verifier proves programs safe for at most this much.
			f.Action, f.Duration, f.Err = 0, 0, fmt.Errorf("%w: XDP frame with %d bytes of metadata, more than %d", ErrInvalid, f.Data-f.Meta, platform.MaxMetaSize)
			continue
		}
		if uint64(f.End-f.Data) > p.info.PacketSizeLimit() {
			// The verifier proves programs safe for at most this much
			// (Linux's MAX_PACKET_OFF); a jumbo page holds more.
			f.Action, f.Duration, f.Err = 0, 0, fmt.Errorf("%w: XDP frame of %d bytes, more than %d", ErrInvalid, f.End-f.Data, p.info.PacketSizeLimit())
			continue
		}
		base := uint64(uintptr(unsafe.Pointer(&f.Page[0])))
		*ctx = linux.XDPContext{
			DataMeta:       base + uint64(f.Meta),
			Data:           base + uint64(f.Data),
			DataEnd:        base + uint64(f.End),
			IngressIfindex: f.IngressIfindex,
			RxQueueIndex:   f.RxQueueIndex,
			EgressIfindex:  f.EgressIfindex,
		}
		*run = helpers.Run{Program: p.info.Type, Ctx: unsafe.Pointer(ctx), Packet: f.Page}
		rc.Regions = append(rc.Regions[:0],
			vm.Region{Start: uintptr(unsafe.Pointer(ctx)), Size: unsafe.Sizeof(*ctx), Name: "context", Memory: sc},
			// The caller keeps Page alive and still (XDPFrame); boxing it
			// here would allocate per frame.
			vm.Region{Start: uintptr(base), Size: uintptr(len(f.Page)), Writable: true, Name: "packet"})
		r0, _, err := p.execIn(rc, run, [5]uint64{uint64(uintptr(unsafe.Pointer(ctx)))}, nil, &liveFrameRun)
		now := time.Since(clockBase)
		f.Duration, f.Err = now-prev, err
		prev = now
		f.Redirect = XDPRedirect{}
		if err != nil {
			f.Action = 0 // XDP_ABORTED
			continue
		}
		f.Action = uint32(r0)
		f.Meta, f.Data, f.End = int(ctx.DataMeta-base), int(ctx.Data-base), int(ctx.DataEnd-base)
		if r := run.Redirect; r.Set {
			f.Redirect = XDPRedirect{Ifindex: r.Ifindex, Flags: r.Flags, m: r.Map}
		}
	}
	*run = helpers.Run{} // drop references until the slot's next run
	runtime.KeepAlive(frames)
	return slot, nil
}
