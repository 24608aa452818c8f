package bpfhost

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"time"
	"unsafe"

	"github.com/bpfhost/bpfhost/helpers"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// Test runs of the program types whose input is not (only) a packet: the
// flow dissector, raw tracepoints, syscall programs and sk_lookup, with
// the rules of Linux's bpf_prog_test_run_flow_dissector, _raw_tp, _syscall
// and _sk_lookup (net/bpf/test_run.c). Decision 0044 has the details.

// contextEnd returns the end of the furthest context byte the instructions
// at the given slots access (Linux's max_ctx_offset): those are loads and
// stores through the unmodified context pointer, so their offset is the
// context offset.
func contextEnd(insns []isa.Instruction, accesses []int) int {
	end := 0
	for _, pc := range accesses {
		if pc < 0 || pc >= len(insns) {
			continue
		}
		ins := insns[pc]
		if e := int(ins.Offset) + ins.Opcode.Size().Bytes(); e > end {
			end = e
		}
	}
	return end
}

// TestRunContextSize returns the size of the context structure a test run
// of the program takes (RunOptions.Context) and whether that size is fixed.
// It is not fixed for raw_tracepoint programs (the caller passes as many
// u64 arguments as the tracepoint has, up to 12) and syscall programs (a
// buffer of the caller's choosing, up to 65535 bytes); it is 0 for types
// that take no context.
func (p *Program) TestRunContextSize() (size int, fixed bool) {
	switch p.info.TestRun {
	case platform.TestRunXDP:
		return linux.XDPContextSize, true
	case platform.TestRunSKB:
		return linux.SKBContextSize, true
	case platform.TestRunFlowDissector:
		return linux.FlowKeysSize, true
	case platform.TestRunSKLookup:
		return linux.SKLookupContextSize, true
	case platform.TestRunRawTracepoint:
		return linux.RawTracepointContextMax, false
	case platform.TestRunSyscall:
		return linux.SyscallContextMax, false
	}
	return 0, true
}

// marshalContext encodes a context whose size the caller chooses.
func marshalContext(v any) ([]byte, error) {
	if b, ok := v.([]byte); ok {
		return b, nil
	}
	return marshal(v, binary.Size(v))
}

// contextIn returns the context a caller passed for a structure of size
// bytes as Linux's bpf_ctx_init takes ctx_in: a shorter one is
// zero-extended, a longer one is accepted if the extra bytes are zero
// (else E2BIG); nil (no ctx_in) is all zeros.
func contextIn(v any, size int) ([]byte, error) {
	out := make([]byte, size)
	if v == nil {
		return out, nil
	}
	b, err := marshalContext(v)
	if err != nil {
		return nil, err
	}
	if len(b) > size {
		if !allZero(b[size:]) {
			return nil, fmt.Errorf("%d bytes, want at most %d (more only if the extra bytes are zero)", len(b), size)
		}
		b = b[:size]
	}
	copy(out, b)
	return out, nil
}

// noData refuses the packet input of a test-run type that takes none (the
// kernel's EINVAL for data_in), and empties DataOut: there is no packet to
// report.
func noData(opts *RunOptions, what string) error {
	if len(opts.Data) != 0 {
		return fmt.Errorf("%w: a test run of %s programs takes no data (have %d bytes)", ErrInvalid, what, len(opts.Data))
	}
	if opts.DataOut != nil {
		opts.DataOut = opts.DataOut[:0]
	}
	return nil
}

// runFlowDissector runs a flow dissector on an Ethernet frame as Linux's
// test run does: the program sees the frame (data at the Ethernet header,
// no sk_buff: bpf_skb_load_bytes fails) and a struct bpf_flow_keys that
// bpf_flow_dissect prepares before each repetition; the output data is
// the flow keys, the context out the caller's (only flags may be set).
func (p *Program) runFlowDissector(opts *RunOptions) (uint32, error) {
	size := len(opts.Data)
	if size < ethHeaderLen {
		return 0, fmt.Errorf("%w: flow dissector test run needs at least %d bytes of data, have %d", ErrInvalid, ethHeaderLen, size)
	}
	if size > pageSize {
		return 0, fmt.Errorf("%w: flow dissector test run of %d bytes: at most %d", ErrInvalid, size, pageSize)
	}
	var in []byte
	var flags uint32
	if opts.Context != nil || opts.ContextOut != nil {
		// A context out alone starts from zero.
		var err error
		if in, err = contextIn(opts.Context, linux.FlowKeysSize); err != nil {
			return 0, fmt.Errorf("%w: context: %w", ErrInvalid, err)
		}
		if flags, err = linux.FlowDissectorTestRunFlags(in); err != nil {
			return 0, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	buf := append([]byte(nil), opts.Data...)
	keys := make([]byte, linux.FlowKeysSize)
	base := uint64(uintptr(unsafe.Pointer(&buf[0])))
	ctx := &linux.SKBContext{
		Data:     base,
		DataEnd:  base + uint64(size),
		FlowKeys: uint64(uintptr(unsafe.Pointer(&keys[0]))),
	}
	ctx.DataMeta = ctx.Data
	regions := []vm.Region{
		{Start: uintptr(unsafe.Pointer(ctx)), Size: unsafe.Sizeof(*ctx), Name: "context", Memory: ctx},
		vm.RegionOf("packet", buf, false),
		vm.RegionOf("flow_keys", keys, true),
	}
	run := &helpers.Run{Program: p.info.Type, Ctx: unsafe.Pointer(ctx), Packet: buf}
	args := [5]uint64{uint64(uintptr(unsafe.Pointer(ctx)))}

	slot, rc := p.coll.slots.acquire()
	if rc == nil {
		return 0, ErrClosed
	}
	defer p.coll.slots.release(slot)
	// Each repetition is a call of bpf_flow_dissect, which prepares the
	// keys afresh, so the loop is here rather than in execIn.
	repeat := max(opts.Repeat, 1)
	once := *opts
	once.Repeat = 1
	var (
		r0    uint64
		total time.Duration
	)
	for i := uint32(0); i < repeat; i++ {
		linux.FlowDissectorStart(keys, [2]byte{buf[12], buf[13]}, ethHeaderLen, flags)
		rc.Regions = append(rc.Regions[:0], regions...)
		var d time.Duration
		var err error
		r0, d, err = p.execIn(rc, run, args, nil, &once)
		if err != nil {
			opts.Duration = 0
			return 0, err
		}
		linux.FlowDissectorFinish(keys, ethHeaderLen, size)
		total += d
		if i%1024 == 1023 {
			// Between two runs, as in execIn: a Close waiting for this
			// slot (quiesceOthers) need not wait for the rest.
			p.coll.slots.quiescent(rc.Slot)
		}
	}
	opts.Duration = total / time.Duration(repeat)
	if opts.DataOut != nil {
		opts.DataOut = append(opts.DataOut[:0], keys...)
	}
	if opts.ContextOut != nil {
		if err := unmarshal(in, opts.ContextOut); err != nil {
			return 0, fmt.Errorf("context out: %w", err)
		}
	}
	runtime.KeepAlive(ctx)
	runtime.KeepAlive(buf)
	runtime.KeepAlive(keys)
	return uint32(r0), nil
}

// runArgs runs a raw_tracepoint or syscall program on a context of the
// caller's size (Linux's bpf_prog_test_run_raw_tp and _syscall): no data,
// no repetitions, a context at least as long as the furthest byte the
// program reads (max_ctx_offset) and at most 12 u64 arguments (raw
// tracepoints) or 65535 bytes (syscall); none is an empty context. A
// syscall program may write its context: Linux copies it back over ctx_in
// and refuses a ctx_out, bpfhost gives it in ContextOut (the caller's
// Context is not changed). Raw tracepoints have no context out.
func (p *Program) runArgs(opts *RunOptions) (uint32, error) {
	syscall := p.info.TestRun == platform.TestRunSyscall
	what, limit := "raw_tracepoint", linux.RawTracepointContextMax
	if syscall {
		what, limit = "syscall", linux.SyscallContextMax
	}
	if err := noData(opts, what); err != nil {
		return 0, err
	}
	if opts.Repeat > 1 {
		return 0, fmt.Errorf("%w: a test run of %s programs runs once (Linux refuses a repeat count)", ErrInvalid, what)
	}
	if !syscall && opts.ContextOut != nil {
		return 0, fmt.Errorf("%w: a test run of raw_tracepoint programs has no context out", ErrInvalid)
	}
	var in []byte
	if opts.Context != nil {
		var err error
		if in, err = marshalContext(opts.Context); err != nil {
			return 0, fmt.Errorf("%w: context: %w", ErrInvalid, err)
		}
	}
	if len(in) > limit {
		return 0, fmt.Errorf("%w: %s context of %d bytes: at most %d", ErrInvalid, what, len(in), limit)
	}
	if len(in) < p.ctxEnd {
		return 0, fmt.Errorf("%w: %s context of %d bytes: the program reads up to byte %d of it", ErrInvalid, what, len(in), p.ctxEnd)
	}
	// Without a context Linux passes NULL, which the verifiers (Linux's
	// and bpfhost's) assume a context never is; bpfhost passes an empty
	// context, which no instruction of the program reads (ctxEnd is 0).
	// A program it may tail-call may read further than ctxEnd, up to the
	// whole structure the verifier checked it against: such a run gets
	// a context of that size, zero past the caller's bytes.
	n := len(in)
	if p.tailCalls && p.info.Context != nil {
		n = max(n, p.info.Context.Size)
	}
	ctx := make([]byte, n, max(n, 1))
	copy(ctx, in)
	addr := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(ctx))))
	var regions []vm.Region
	if len(ctx) > 0 {
		regions = []vm.Region{vm.RegionOf("context", ctx, syscall)}
	}
	run := &helpers.Run{Program: p.info.Type, Ctx: unsafe.Pointer(unsafe.SliceData(ctx))}
	r0, d, err := p.exec(run, [5]uint64{addr}, regions, nil, opts)
	opts.Duration = d
	if err != nil {
		return 0, err
	}
	if opts.ContextOut != nil {
		if err := unmarshal(ctx[:len(in)], opts.ContextOut); err != nil {
			return 0, fmt.Errorf("context out: %w", err)
		}
	}
	runtime.KeepAlive(ctx)
	return uint32(r0), nil
}

// runSKLookup runs an sk_lookup program on the struct bpf_sk_lookup of a
// caller, as Linux's test run does (platform/linux has the rules for
// ctx_in); it needs a context, takes no data, and reports the cookie of
// the socket the program selected in the context out (0: bpfhost has no
// socket maps, so none is ever selected).
func (p *Program) runSKLookup(opts *RunOptions) (uint32, error) {
	if err := noData(opts, "sk_lookup"); err != nil {
		return 0, err
	}
	if opts.Context == nil && opts.ContextOut == nil {
		return 0, fmt.Errorf("%w: a test run of sk_lookup programs needs a context (struct bpf_sk_lookup)", ErrInvalid)
	}
	in, err := contextIn(opts.Context, linux.SKLookupContextSize)
	if err != nil {
		return 0, fmt.Errorf("%w: context: %w", ErrInvalid, err)
	}
	ctx, err := linux.SKLookupTestRunContext(in)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	run := &helpers.Run{Program: p.info.Type, Ctx: unsafe.Pointer(&ctx[0])}
	regions := []vm.Region{vm.RegionOf("context", ctx, false)}
	r0, d, err := p.exec(run, [5]uint64{uint64(uintptr(unsafe.Pointer(&ctx[0])))}, regions, nil, opts)
	opts.Duration = d
	if err != nil {
		return 0, err
	}
	if opts.ContextOut != nil {
		if err := unmarshal(linux.SKLookupTestRunContextOut(in, 0), opts.ContextOut); err != nil {
			return 0, fmt.Errorf("context out: %w", err)
		}
	}
	runtime.KeepAlive(ctx)
	return uint32(r0), nil
}
