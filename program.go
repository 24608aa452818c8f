package bpfhost

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/bpfhost/bpfhost/helpers"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/jit"
)

// Program is a loaded program of a Collection.
type Program struct {
	name, section string
	info          *platform.ProgramTypeInfo
	spec          *ProgramSpec
	insns         []isa.Instruction // after linking and the context rewrite
	exe           vm.Executable
	coll          *Collection
	id            uint32
	tailCalls     bool   // it calls bpf_tail_call
	engine        Engine // the engine that compiled it
	// closed is set by Close: the runs that start afterwards fail with
	// ErrClosed (exe, which Close clears, is read only while holding a
	// slot).
	closed atomic.Bool
	// tail is exe as runs of other collections find it through a program
	// array (host.TailTarget); Close clears it before waiting for them
	// (quiesceOthers) and freeing exe.
	tail     atomic.Pointer[exeBox]
	fallback string // why the requested engine was not used, if it was not
	// kernelTypes are the kernel types it was verified against (BTF-typed
	// programs, btftyped.go), or nil.
	kernelTypes platform.KernelTypes
	// ctxEnd is the end of the furthest context byte the program
	// accesses (Linux's max_ctx_offset), which a test run whose caller
	// sizes the context (raw_tracepoint, syscall) must provide.
	ctxEnd int
}

// Name returns the program's function name.
func (p *Program) Name() string { return p.name }

// Section returns the ELF section the program came from.
func (p *Program) Section() string { return p.section }

// Type returns the program type's name ("xdp", "socket_filter", ...).
func (p *Program) Type() string { return p.info.Name }

// TypeInfo returns the program type's descriptor.
func (p *Program) TypeInfo() *ProgramTypeInfo { return p.info }

// ID returns the program's process-wide ID, which program arrays report.
func (p *Program) ID() uint32 { return p.id }

// Spec returns the spec the program was loaded from.
func (p *Program) Spec() *ProgramSpec { return p.spec }

// Instructions returns the instructions as they run: linked, with map
// references resolved and context accesses in the host layout.
func (p *Program) Instructions() []isa.Instruction { return p.insns }

// Engine returns the engine that runs the program.
func (p *Program) Engine() Engine { return p.engine }

// Fallback returns why the program runs in the interpreter although the JIT
// was requested, or "".
func (p *Program) Fallback() string { return p.fallback }

func runOnce(exe vm.Executable, rc *vm.RunContext) (uint64, error) { return exe.Run(rc) }

// JITBlock is the machine code the JIT made for one eBPF slot, or for a
// routine the slots share (Program.JITListing).
type JITBlock = jit.Block

// JITListing returns the machine code of a program the JIT compiled, by
// eBPF instruction; it fails for programs another engine runs.
func (p *Program) JITListing() ([]JITBlock, error) {
	if p.closed.Load() {
		return nil, ErrClosed
	}
	return jit.Listing(p.exe)
}

// Close releases the program.
func (p *Program) Close() error {
	var err error
	// Runs of the collection's programs in other goroutines end first
	// (one of them may have tail-called this one).
	p.coll.slots.exclusive(false, func() { err = p.closeLocked() })
	return errors.Join(err, closeAssigned(p))
}

// exeBox holds an Executable for an atomic.Pointer.
type exeBox struct{ exe vm.Executable }

// unreach makes p unreachable to new runs: they fail with ErrClosed, and
// tail calls through program arrays find an empty slot.
func (p *Program) unreach() {
	registry.programs.Delete(p.id)
	p.closed.Store(true)
	p.tail.Store(nil)
}

// closeLocked releases the program's code; no run holds a slot of its
// collection (slotPool.exclusive). If a program of the collection was ever
// stored in a program array, runs of other collections may be inside it
// (a tail call): they end first.
func (p *Program) closeLocked() error {
	p.unreach()
	if p.exe == nil {
		return nil
	}
	if p.coll.arrayed.Load() {
		quiesceOthers(p.coll.slots)
	}
	return p.release()
}

// release frees the program's code once nothing can run it.
func (p *Program) release() error {
	if p.exe == nil {
		return nil
	}
	err := p.exe.Close()
	p.exe = nil
	return err
}

// RunOptions are the input and output of a test run, as BPF_PROG_TEST_RUN
// has them.
type RunOptions struct {
	// Data is the input packet (or buffer, for the generic type); XDP
	// packets past one page go into fragments, as in Linux. Raw
	// tracepoint, syscall and sk_lookup programs take none.
	Data []byte
	// DataOut receives the packet after the run (a flow dissector's: its
	// struct bpf_flow_keys); it is resized as needed.
	DataOut []byte
	// Context is the Linux context structure to start from (xdp_md,
	// __sk_buff, bpf_flow_keys, bpf_sk_lookup, a raw tracepoint's u64
	// arguments, a syscall program's buffer), as bytes or a fixed-size
	// value; only the fields Linux's test run honours may be set
	// (platform/linux has the rules, decision 0044 the newer types). Nil
	// runs without one, as Linux does, unless ContextOut is set: then the
	// run starts from a zeroed structure, as Linux's does.
	// TestRunContextSize gives its size.
	Context any
	// ContextOut receives the context structure after the run (a syscall
	// program's buffer, which Linux writes back over its ctx_in instead).
	ContextOut any
	// Repeat runs the program this many times (0 means once) on the same
	// packet and context, as Linux does, and Duration is the average.
	Repeat uint32
	// Duration is set by Run: the average time of one repetition.
	Duration time.Duration
	// Ctx, if not nil, cancels the runs: when it is done (canceled, or
	// its deadline passed) a run stops at its next helper call, callback
	// or unit of helper work and Run returns an error wrapping
	// ErrCanceled and the context's cause. Code that calls no helper is
	// bounded by the instruction budget instead.
	Ctx context.Context

	// untimed leaves the run untimed (execIn returns 0): the caller reads
	// the clock itself (RunXDPBatch, once between two frames).
	untimed bool
}

// ErrCanceled is wrapped by the error of a run stopped by RunOptions.Ctx.
var ErrCanceled = vm.ErrCanceled

// Run runs the program on opts.Data as BPF_PROG_TEST_RUN would and returns
// the 32-bit value Linux reports as retval.
func (p *Program) Run(opts *RunOptions) (uint32, error) {
	if opts == nil {
		opts = &RunOptions{}
	}
	if p.closed.Load() {
		return 0, fmt.Errorf("program %q: %w", p.name, ErrClosed)
	}
	var (
		r   uint32
		err error
	)
	switch p.info.TestRun {
	case platform.TestRunXDP:
		r, err = p.runXDP(opts)
	case platform.TestRunSKB:
		r, err = p.runSKB(opts)
	case platform.TestRunBuffer:
		r, err = p.runBuffer(opts)
	case platform.TestRunFlowDissector:
		r, err = p.runFlowDissector(opts)
	case platform.TestRunRawTracepoint, platform.TestRunSyscall:
		r, err = p.runArgs(opts)
	case platform.TestRunSKLookup:
		r, err = p.runSKLookup(opts)
	default:
		err = fmt.Errorf("%w: test run of %s programs", ErrNotSupported, p.info.Name)
	}
	if err != nil {
		return 0, fmt.Errorf("program %q: %w", p.name, err)
	}
	return r, nil
}

// Test runs the program once on in and returns retval and the output packet.
func (p *Program) Test(in []byte) (uint32, []byte, error) {
	opts := &RunOptions{Data: in, DataOut: []byte{}}
	r, err := p.Run(opts)
	return r, opts.DataOut, err
}

// Benchmark runs the program repeat times on in and returns retval and the
// average duration of one run. reset, if not nil, is called before the runs.
func (p *Program) Benchmark(in []byte, repeat int, reset func()) (uint32, time.Duration, error) {
	if reset != nil {
		reset()
	}
	if repeat < 1 {
		repeat = 1
	}
	opts := &RunOptions{Data: in, Repeat: uint32(repeat)}
	r, err := p.Run(opts)
	return r, opts.Duration, err
}

// exec runs the program repeat times in one execution slot with the given
// entry arguments, regions and per-run helper state.
func (p *Program) exec(run *helpers.Run, args [5]uint64, regions []vm.Region, ldPacket []byte, opts *RunOptions) (uint64, time.Duration, error) {
	slot, rc := p.coll.slots.acquire()
	if rc == nil {
		return 0, 0, ErrClosed
	}
	defer p.coll.slots.release(slot)
	rc.Regions = append(rc.Regions[:0], regions...)
	return p.execIn(rc, run, args, ldPacket, opts)
}

// clockBase anchors the run timer: time.Since(clockBase) reads only the
// monotonic clock, where time.Now also reads the wall clock (tens of ns in
// some VMs, a large part of a short run).
var clockBase = time.Now()

// execIn runs the program repeat times in the acquired slot of rc, whose
// Regions already hold the run's own regions; the collection's follow.
func (p *Program) execIn(rc *vm.RunContext, run *helpers.Run, args [5]uint64, ldPacket []byte, opts *RunOptions) (uint64, time.Duration, error) {
	exe := p.exe // stays while the slot is held (Close takes every slot)
	if exe == nil {
		return 0, 0, ErrClosed
	}
	repeat := opts.Repeat
	rc.Context = opts.Ctx // the slot's release clears it
	rc.Value = run
	rc.Regions = append(rc.Regions, p.coll.regions...)
	rc.Packet = ldPacket
	if repeat == 0 {
		repeat = 1
	}
	var r0 uint64
	var err error
	runFn := vm.Run
	if !p.tailCalls {
		runFn = runOnce // no tail-call loop to drive
	}
	var start time.Duration
	if !opts.untimed {
		start = time.Since(clockBase)
	}
	for i := uint32(0); i < repeat; i++ {
		rc.Args = args
		rc.Budget = 0
		if err = rc.Canceled(); err != nil {
			break
		}
		r0, err = runFn(exe, rc)
		// What a failed (or unverified) run still holds is given back.
		run.Release()
		if err != nil {
			break
		}
		if i%1024 == 1023 {
			// Between two runs no program's code is running: a Close
			// waiting for this slot (quiesceOthers) need not wait for
			// the other repetitions (a locked add, so not after each).
			p.coll.slots.quiescent(rc.Slot)
		}
	}
	if opts.untimed {
		return r0, 0, err
	}
	return r0, (time.Since(clockBase) - start) / time.Duration(repeat), err
}

// Linux test-run geometry (net/bpf/test_run.c), kept so that programs see the
// same headroom and limits.
const (
	ethHeaderLen  = 14
	xdpHeadroom   = 256 // XDP_PACKET_HEADROOM
	sharedInfo    = 320 // SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on 64-bit
	pageSize      = 4096
	xdpMaxData    = pageSize - xdpHeadroom - sharedInfo
	skbHeadroom   = 64 // NET_SKB_PAD + NET_IP_ALIGN
	xdpMDSize     = linux.XDPContextSize
	skBuffCtxSize = linux.SKBContextSize
)

func (p *Program) runXDP(opts *RunOptions) (uint32, error) {
	size := len(opts.Data)
	if size < ethHeaderLen {
		return 0, fmt.Errorf("%w: XDP test run needs at least %d bytes of data, have %d", ErrInvalid, ethHeaderLen, size)
	}
	var md [xdpMDSize]byte
	// Without a context in or out, Linux runs without one; a context out
	// alone starts from a zeroed one (bpf_ctx_init).
	if opts.Context != nil {
		b, err := marshal(opts.Context, xdpMDSize)
		if err != nil {
			return 0, fmt.Errorf("%w: context: %w", ErrInvalid, err)
		}
		copy(md[:], b)
	}
	tr := linux.XDPTestRun{IngressIfindex: 1, LinearLen: size} // no context: loopback, no metadata
	if opts.Context != nil || opts.ContextOut != nil {
		var err error
		if tr, err = linux.XDPTestRunContext(md[:], size); err != nil {
			return 0, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	metaLen := tr.MetaLen
	// The linear part ends at data_end or at the end of its page; the rest
	// of the data goes into fragments of a page each (XDP multi-buffer).
	linear := min(tr.LinearLen, linux.XDPLinearMax(metaLen))
	nfrags := (size - linear + linux.XDPPageSize - 1) / linux.XDPPageSize
	if nfrags > linux.XDPMaxFrags {
		return 0, fmt.Errorf("%w: XDP test run of %d bytes: %d in the linear part and %d fragments of %d, at most %d fragments (Linux's ENOMEM)",
			ErrInvalid, size, linear, nfrags, linux.XDPPageSize, linux.XDPMaxFrags)
	}
	var frags [][]byte
	if nfrags > 0 {
		frags = make([][]byte, nfrags)
		for i, rest := 0, opts.Data[linear:]; i < nfrags; i++ {
			n := min(len(rest), linux.XDPPageSize)
			frags[i] = append(make([]byte, 0, linux.XDPPageSize), rest[:n]...)
			rest = rest[n:]
		}
	}

	// The slot's scratch memory holds the packet page, the context and the
	// helpers' state, so that a run allocates nothing (without fragments).
	// The metadata is taken from the headroom, as in Linux; the buffer ends
	// where the shared info starts, as far as bpf_xdp_adjust_tail may grow
	// the packet (it zeroes what it grows, so the tailroom is not cleared
	// here). Linux zeroes the headroom of a test run's page.
	slot, rc := p.coll.slots.acquire()
	if rc == nil {
		return 0, ErrClosed
	}
	defer p.coll.slots.release(slot)
	sc := &p.coll.slots.scratch[slot]
	head := xdpHeadroom - metaLen // data_meta
	buf := sc.page[:pageSize-sharedInfo]
	clear(buf[:head])
	copy(buf[head:], opts.Data[:linear])
	base := uint64(uintptr(unsafe.Pointer(&buf[0])))
	ctx := &sc.xdp
	*ctx = linux.XDPContext{
		DataMeta: base + uint64(head),
		Data:     base + xdpHeadroom,
		DataEnd:  base + uint64(head+linear),

		IngressIfindex: tr.IngressIfindex,
		RxQueueIndex:   tr.RxQueueIndex,
	}
	run := &sc.run
	*run = helpers.Run{Program: p.info.Type, Ctx: unsafe.Pointer(ctx), Packet: buf, Frags: frags}
	rc.Regions = append(rc.Regions[:0],
		vm.Region{Start: uintptr(unsafe.Pointer(ctx)), Size: unsafe.Sizeof(*ctx), Name: "context", Memory: sc},
		// Memory: the scratch pointer, which boxes without allocating.
		vm.Region{Start: uintptr(unsafe.Pointer(&buf[0])), Size: uintptr(len(buf)), Writable: true, Name: "packet", Memory: sc})
	r0, d, err := p.execIn(rc, run, [5]uint64{uint64(uintptr(unsafe.Pointer(ctx)))}, nil, opts)
	frags = run.Frags    // as the helpers left them
	*run = helpers.Run{} // drop references until the slot's next run
	opts.Duration = d
	if err != nil {
		return 0, err
	}
	// Linux returns the metadata, the packet and its fragments, and the
	// context with data as the metadata length and data_end the linear
	// part's.
	lo, hi := int(ctx.DataMeta-base), int(ctx.DataEnd-base)
	if opts.DataOut != nil {
		opts.DataOut = append(opts.DataOut[:0], buf[lo:hi]...)
		for _, f := range frags {
			opts.DataOut = append(opts.DataOut, f...)
		}
	}
	if opts.ContextOut != nil {
		out := linux.XDPTestRunContextOut(ctx, md[:])
		if err := unmarshal(out, opts.ContextOut); err != nil {
			return 0, fmt.Errorf("context out: %w", err)
		}
	}
	runtime.KeepAlive(ctx)
	runtime.KeepAlive(buf)
	return uint32(r0), nil
}

// l2Types see the Ethernet header at skb->data in a test run; the others
// see the network header (Linux pulls the Ethernet header with
// eth_type_trans and pushes it back only for these).
func (p *Program) isL2() bool {
	switch p.info.Type {
	case linux.SchedCLS, linux.SchedACT:
		return true
	}
	return false
}

func (p *Program) runSKB(opts *RunOptions) (uint32, error) {
	size := len(opts.Data)
	if size < ethHeaderLen {
		return 0, fmt.Errorf("%w: skb test run needs at least %d bytes of data, have %d", ErrInvalid, ethHeaderLen, size)
	}
	if size > pageSize-skbHeadroom-sharedInfo {
		return 0, fmt.Errorf("%w: skb test run of %d bytes: at most %d", ErrInvalid, size, pageSize-skbHeadroom-sharedInfo)
	}
	var in [skBuffCtxSize]byte
	if opts.Context != nil {
		b, err := marshal(opts.Context, skBuffCtxSize)
		if err != nil {
			return 0, fmt.Errorf("%w: context: %w", ErrInvalid, err)
		}
		copy(in[:], b)
	}
	buf := make([]byte, skbHeadroom+size+sharedInfo)
	copy(buf[skbHeadroom:], opts.Data)
	base := uint64(uintptr(unsafe.Pointer(&buf[0])))

	// eth_type_trans: protocol from the Ethertype, packet type from the
	// destination address (the test device is loopback, address zero).
	frame := opts.Data
	proto := binary.BigEndian.Uint16(frame[12:])
	if proto < 0x600 { // an 802.3 length
		proto = 0x0004 // ETH_P_802_2
		if size >= 16 && frame[14] == 0xff && frame[15] == 0xff {
			proto = 0x0001 // ETH_P_802_3 (raw IPX)
		}
	}
	// Linux's test run pulls the network header it will describe in skb->sk.
	switch {
	case proto == 0x0800 && size < ethHeaderLen+20:
		return 0, fmt.Errorf("%w: skb test run of an IPv4 frame of %d bytes: the IPv4 header needs %d", ErrInvalid, size, ethHeaderLen+20)
	case proto == 0x86dd && size < ethHeaderLen+40:
		return 0, fmt.Errorf("%w: skb test run of an IPv6 frame of %d bytes: the IPv6 header needs %d", ErrInvalid, size, ethHeaderLen+40)
	}
	var pktType uint32
	switch {
	case frame[0]&1 != 0 && allOnes(frame[:6]):
		pktType = 1 // PACKET_BROADCAST
	case frame[0]&1 != 0:
		pktType = 2 // PACKET_MULTICAST
	case !allZero(frame[:6]):
		pktType = 3 // PACKET_OTHERHOST
	}

	ctx := &linux.SKBContext{
		Protocol: uint32(bits.ReverseBytes16(proto)), // skb->protocol: network order
		PktType:  pktType,
		Ifindex:  1, // loopback
	}
	start := uint64(skbHeadroom)
	if !p.isL2() {
		start += ethHeaderLen
	}
	ctx.Len = uint32(uint64(skbHeadroom+size) - start)
	ctx.Data = base + start
	ctx.DataMeta = ctx.Data
	ctx.DataEnd = base + uint64(skbHeadroom+size)
	// Linux sets wire_len (the qdisc's pkt_len) only when the caller gives
	// a context in or out (a context out alone starts from a zeroed one);
	// then 0 means the length the program sees.
	if opts.Context != nil || opts.ContextOut != nil {
		if err := linux.ApplySKBTestRunContext(ctx, in[:], int(ctx.Len)); err != nil {
			return 0, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	// skb->sk: Linux's test run creates a socket with the IP addresses.
	{
		ip := buf[skbHeadroom+ethHeaderLen : skbHeadroom+size]
		switch proto {
		case 0x0800:
			ctx.Family = 2 // AF_INET
			if len(ip) >= 20 {
				ctx.LocalIP4 = binary.NativeEndian.Uint32(ip[12:])
				ctx.RemoteIP4 = binary.NativeEndian.Uint32(ip[16:])
			}
		case 0x86dd:
			ctx.Family = 10 // AF_INET6
			if len(ip) >= 40 {
				for i := 0; i < 4; i++ {
					ctx.LocalIP6[i] = binary.NativeEndian.Uint32(ip[8+4*i:])
					ctx.RemoteIP6[i] = binary.NativeEndian.Uint32(ip[24+4*i:])
				}
			}
		}
	}

	run := &helpers.Run{Program: p.info.Type, Ctx: unsafe.Pointer(ctx), Packet: buf}
	regions := contextRegions(make([]vm.Region, 0, 12), p.info.Context, "context", ctx, unsafe.Pointer(ctx), unsafe.Sizeof(*ctx))
	regions = append(regions, vm.RegionOf("packet", buf, true))
	// Legacy packet loads read from skb->data.
	r0, d, err := p.exec(run, [5]uint64{uint64(uintptr(unsafe.Pointer(ctx)))}, regions, buf[start:skbHeadroom+size], opts)
	opts.Duration = d
	if err != nil {
		return 0, err
	}
	// The packet pointers are the helpers' to move; an unverified
	// (checked) program can also write them through a context pointer it
	// kept where the context classification does not follow it (a map
	// value), since the whole struct is a writable region of the run.
	// What the run left must be checked before it slices the buffer.
	if ctx.Data < base || ctx.DataEnd < ctx.Data || ctx.DataEnd-base > uint64(len(buf)) || (!p.isL2() && ctx.Data-base < ethHeaderLen) {
		return 0, fmt.Errorf("program %q: %w: the run left the context's packet pointers outside the packet buffer", p.name, ErrInvalid)
	}
	lo, hi := int(ctx.Data-base), int(ctx.DataEnd-base)
	if !p.isL2() {
		// Linux pushes a zeroed Ethernet header back before copying out.
		lo -= ethHeaderLen
		clear(buf[lo : lo+ethHeaderLen])
	}
	if opts.DataOut != nil {
		opts.DataOut = append(opts.DataOut[:0], buf[lo:hi]...)
	}
	if opts.ContextOut != nil {
		if err := unmarshal(linux.SKBTestRunContextOut(ctx, in[:]), opts.ContextOut); err != nil {
			return 0, fmt.Errorf("context out: %w", err)
		}
	}
	runtime.KeepAlive(ctx)
	runtime.KeepAlive(buf)
	return uint32(r0), nil
}

// runBuffer runs the generic type: r1 points at a copy of the data, r2 is
// its length; the buffer after the run is the output. The entry registers
// come from the type's descriptor (platform.ProgramTypeInfo.EntryArgs), so
// they hold what the verifier assumed: a buffer that is never NULL, even
// when empty, and no longer than the type's packet size limit.
func (p *Program) runBuffer(opts *RunOptions) (uint32, error) {
	// One byte more than the data, so that even an empty buffer has an
	// address.
	buf := append(make([]byte, 0, len(opts.Data)+1), opts.Data...)
	args, err := p.info.EntryArgs(uint64(uintptr(unsafe.Pointer(unsafe.SliceData(buf)))), len(buf))
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	run := &helpers.Run{Program: p.info.Type, Packet: buf}
	r0, d, err := p.exec(run, args, []vm.Region{vm.RegionOf("data", buf, true)}, buf, opts)
	opts.Duration = d
	if err != nil {
		return 0, err
	}
	if opts.DataOut != nil {
		opts.DataOut = append(opts.DataOut[:0], buf...)
	}
	return uint32(r0), nil
}

func allOnes(b []byte) bool {
	for _, c := range b {
		if c != 0xff {
			return false
		}
	}
	return true
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// GPLCompatible reports whether a license string (an object's license
// section, ProgramSpec.License) lets a program call GPL-only helpers and
// read kernel objects through BTF pointers, as Linux's
// license_is_gpl_compatible decides; the verifier refuses both in a
// program whose license is not.
func GPLCompatible(license string) bool { return linux.GPLCompatible(license) }
