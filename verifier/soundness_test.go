package verifier

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"testing"
	"time"
	"unsafe"

	"github.com/bpfhost/bpfhost/internal/oracle"
	"github.com/bpfhost/bpfhost/internal/progen"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
)

// The soundness fuzzer: programs the verifier accepts must never fault in
// the checked interpreter, whatever the packet. Run longer with
//
//	go test ./verifier -run TestSoundness -verifier.soundness=100000
var soundnessN = flag.Int("verifier.soundness", 0, "programs per generator for TestSoundness (0: a short run)")

// soundnessSeed shifts every generator's seed, so that long runs can be split
// into chunks that try different programs.
var soundnessSeed = flag.Uint64("verifier.seed", 0, "added to every generator's seed in TestSoundness")

// soundnessShard splits a long run across processes or sessions: shard K of
// M (0 <= K < M) tries programs no other shard of the same seed tries.
//
//	go test ./verifier -run TestSoundness -verifier.soundness=20000 -verifier.shard=3/8
var soundnessShard = flag.String("verifier.shard", "0/1", "K/M: run shard K of M in TestSoundness")

// shardSeed returns the generators' base seed for a seed and a shard "K/M".
// Generators add up to 15 to it, so bases are 16 apart.
func shardSeed(seed uint64, shard string) (uint64, error) {
	var k, m uint64
	if _, err := fmt.Sscanf(shard, "%d/%d", &k, &m); err != nil || m == 0 || k >= m {
		return 0, fmt.Errorf("-verifier.shard=%q: want K/M with 0 <= K < M", shard)
	}
	return (seed*m + k) * 16, nil
}

// fuzzMaps is the map the packet generator's programs look up: a 4-entry
// array of 16-byte values.
var fuzzMaps = []MapInfo{{Name: "arr", Type: linux.MapArray, KeySize: 4, ValueSize: 16, MaxEntries: 4}}

func xdpInfo(t testing.TB) *platform.ProgramTypeInfo {
	info, ok := linux.Lookup("xdp")
	if !ok {
		t.Fatal("no xdp program type")
	}
	return info
}

// harness runs accepted programs in the checked interpreter.
type harness struct {
	t        testing.TB
	info     *platform.ProgramTypeInfo
	rng      *rand.Rand
	tried    int
	accepted int
	runs     int
	longRuns int // runs still going after 2^28 instructions (see try)
	steps    int // instructions checked for containment
	// cont, while set, keeps the verifier's states for the containment
	// check of the runs.
	cont *Containment
	// hooks, if set, are the verifier's test hooks (containment tests).
	hooks *testHooks
	// broken, if set, changes the states kept for containment after the
	// verification (containment tests: a deliberately wrong verifier).
	broken func(c *Containment)
	// helpers, if set, replace the harness's helpers of the same IDs
	// (containment tests: a helper that breaks its contract).
	helpers vm.Helpers
	values  [][]byte // map values, kept alive
	// keep holds the packet and context of the current run: storing them
	// here puts them on the heap (goroutine stacks move, and the program
	// holds raw addresses) and keeps them alive.
	keep struct {
		buf []byte
		ctx *linux.XDPContext
	}
}

// violation is a fault in an accepted program.
type violation struct {
	err  error
	prog []isa.Instruction
	plen int
}

// errVerifierPanic marks a panic of the verifier: a bug as grave as a
// fault, reported with the program.
var errVerifierPanic = errors.New("the verifier panicked")

// verify runs the verifier, turning a panic into an error.
func (h *harness) verify(prog []isa.Instruction, maps []MapInfo) (res *Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v\n%s", errVerifierPanic, p, debug.Stack())
		}
	}()
	start := time.Now()
	res, err = Verify(prog, Options{Type: h.info, ABI: linux.ABI(), Maps: maps, MaxIterations: 20000, Limits: Limits{Timeout: verifyTimeout}, Containment: h.cont, test: h.hooks})
	if d := time.Since(start); d >= verifyTimeout {
		// Small programs verify in milliseconds: one that takes this long
		// is a finding (a cost the limits do not bound), not a rejection.
		return nil, fmt.Errorf("%w: verification took %v", errVerifierSlow, d.Round(time.Millisecond))
	}
	return res, err
}

// verifyTimeout bounds each verification in the soundness harness.
const verifyTimeout = 20 * time.Second

// errVerifierSlow marks a verification that ran into verifyTimeout.
var errVerifierSlow = errors.New("the verifier is too slow")

// try verifies prog and, if accepted, runs it on several packets. It
// returns a violation, or nil.
func (h *harness) try(prog []isa.Instruction, maps []MapInfo) *violation {
	h.tried++
	if isa.Validate(prog) != nil {
		return nil
	}
	cont := &Containment{}
	h.cont = cont
	res, err := h.verify(prog, maps)
	h.cont = nil
	if errors.Is(err, errVerifierPanic) || errors.Is(err, errVerifierSlow) {
		return &violation{err: err, prog: prog}
	}
	if err != nil {
		return nil
	}
	if h.broken != nil {
		h.broken(cont)
	}
	h.accepted++
	run, err := platform.Rewrite(prog, h.info.Context, res.ContextAccesses)
	if err != nil {
		return &violation{err: err, prog: prog}
	}
	// Resolve map lddw to an immediate handle the helpers understand: map
	// i is handle i+1.
	run = append([]isa.Instruction(nil), run...)
	for pc := 0; pc < len(run); pc++ {
		if run[pc].IsLoadImm64() {
			if run[pc].Src == isa.PseudoMapIdx {
				run[pc].Src = isa.PseudoImm64
				run[pc].Imm++
			}
			pc++
		}
	}
	valueSize := func(handle uint64) (int, bool) {
		if handle == 0 || handle > uint64(len(maps)) {
			return 0, false
		}
		return int(maps[handle-1].ValueSize), true
	}
	value := make([]byte, 16)
	record := make([]byte, 64)
	h.values = append(h.values[:0], value, record)
	reserved := false
	// A queue's bpf_map_pop_elem and bpf_map_peek_elem: fill the value
	// buffer, or zero it when the queue is empty, as Linux does.
	queueOp := func(rc *vm.RunContext, r1, r2, r3, r4, r5 uint64) (uint64, error) {
		n, ok := valueSize(r1)
		if !ok {
			return 0, fmt.Errorf("no map with handle %d", r1)
		}
		if err := rc.Check(r2, n, true); err != nil {
			return 0, err
		}
		b := vm.Bytes(r2, n)
		if h.rng.IntN(2) == 0 {
			clear(b)
			return ^uint64(1), nil // -ENOENT
		}
		for i := range b {
			b[i] = byte(h.rng.Uint32())
		}
		return 0, nil
	}
	helpers := vm.Helpers{
		1: func(rc *vm.RunContext, r1, r2, r3, r4, r5 uint64) (uint64, error) {
			if err := rc.Check(r2, 4, false); err != nil {
				return 0, err
			}
			// fuzzMaps' arr is an array: a key below max_entries always
			// finds an element (the verifier relies on it: constkey.go),
			// and a key past the end none.
			if binary.LittleEndian.Uint32(vm.Bytes(r2, 4)) >= fuzzMaps[0].MaxEntries {
				return 0, nil
			}
			return vm.Address(unsafe.Pointer(&value[0])), nil
		},
		// Numbers the verifier cannot predict: a u32, and 64-bit values
		// near the 32-bit and 64-bit sign boundaries (precgen_test.go).
		int32(linux.FnGetPrandomU32): func(rc *vm.RunContext, r1, r2, r3, r4, r5 uint64) (uint64, error) {
			return uint64(h.rng.Uint32()), nil
		},
		int32(linux.FnKtimeGetNs): func(rc *vm.RunContext, r1, r2, r3, r4, r5 uint64) (uint64, error) {
			return edgeValue(h.rng), nil
		},
		int32(linux.FnMapPopElem):  queueOp,
		int32(linux.FnMapPeekElem): queueOp,
		// A ring buffer of one record, and a spin lock that is only a
		// word: enough for the containment tests of what a run holds.
		int32(linux.FnRingbufReserve): func(rc *vm.RunContext, r1, r2, r3, r4, r5 uint64) (uint64, error) {
			if reserved || r2 > uint64(len(record)) || h.rng.IntN(4) == 0 {
				return 0, nil
			}
			reserved = true
			return vm.Address(unsafe.Pointer(&record[0])), nil
		},
		int32(linux.FnRingbufSubmit): func(rc *vm.RunContext, r1, r2, r3, r4, r5 uint64) (uint64, error) {
			reserved = false
			return 0, nil
		},
		int32(linux.FnSpinLock): func(rc *vm.RunContext, r1, r2, r3, r4, r5 uint64) (uint64, error) {
			return 0, rc.Check(r1, 4, true)
		},
		int32(linux.FnSpinUnlock): func(rc *vm.RunContext, r1, r2, r3, r4, r5 uint64) (uint64, error) {
			return 0, rc.Check(r1, 4, true)
		},
	}
	for id, fn := range h.helpers {
		helpers[id] = fn
	}
	exe, err := interp.New().Compile(&vm.Program{Instructions: run, Helpers: helpers}, vm.CompileOptions{Mode: vm.Checked})
	if err != nil {
		return nil // calls a helper the harness lacks
	}
	for i := 0; i < 6; i++ {
		h.runs++
		h.keep.buf = make([]byte, 512)
		buf := h.keep.buf
		head, meta := 256, []int{0, 0, 8, 32}[h.rng.IntN(4)]
		plen := []int{0, 1, 13, 14, 20, 34, 54, 60, 64, 100, 200}[h.rng.IntN(11)] + h.rng.IntN(3)
		for j := range buf {
			buf[j] = byte(h.rng.Uint32())
		}
		h.keep.ctx = &linux.XDPContext{}
		ctx := h.keep.ctx
		base := vm.Address(unsafe.Pointer(&buf[0]))
		ctx.Data = base + uint64(head)
		ctx.DataEnd = ctx.Data + uint64(plen)
		ctx.DataMeta = ctx.Data - uint64(meta)
		rc := &vm.RunContext{
			Args: [5]uint64{vm.Address(unsafe.Pointer(ctx))},
			Regions: []vm.Region{
				{Start: uintptr(unsafe.Pointer(ctx)), Size: unsafe.Sizeof(*ctx), Name: "context"},
				{Start: uintptr(ctx.DataMeta), Size: uintptr(plen + meta), Writable: true, Name: "packet"},
				vm.RegionOf("map value", value, true),
				vm.RegionOf("ring buffer record", record, true),
			},
			Budget: 1 << 22,
		}
		// Every map's lookups hand out the one value.
		mem := &oracle.Memory{RC: rc, Context: rc.Args[0], Packet: true, Meta: ctx.DataMeta, Data: ctx.Data, End: ctx.DataEnd, LeakCheck: true}
		for i := range maps {
			mem.Maps = append(mem.Maps, []oracle.Element{{Start: vm.Address(unsafe.Pointer(&value[0])), Size: 16}})
			mem.Handles = append(mem.Handles, uint64(i+1))
		}
		var contained error
		walk := cont.Walk()
		tr := &oracle.Tracker{Mem: mem, Insns: run, Helper: linux.ABI().HelperByID, ValueSize: valueSize}
		rc.Trace = func(_ vm.Executable, pc int, regs *[11]uint64) {
			if contained == nil {
				h.steps++
				tr.Step(pc, regs, rc.Depth)
				contained = walk.Step(pc, concrete(mem, tr, regs))
			}
		}
		reserved = false
		_, err := exe.Run(rc)
		rc.Trace = nil
		if contained != nil {
			return &violation{err: contained, prog: prog, plen: plen}
		}
		if errors.Is(err, vm.ErrBudgetExceeded) {
			// Accepted loops may run up to MaxLoopIterations times, far
			// beyond the small budget that keeps the fuzzer fast: run such
			// a program again with room for long loops. Still running
			// then is not a memory-safety fault (the engines' budgets
			// stop it); it is counted so that termination bugs show.
			rc.Budget = 1 << 28
			if _, err = exe.Run(rc); errors.Is(err, vm.ErrBudgetExceeded) {
				h.longRuns++
				err = nil
			}
		}
		if err != nil {
			var ae *vm.AccessError
			if errors.As(err, &ae) || !errors.Is(err, vm.ErrUnsupported) {
				return &violation{err: err, prog: prog, plen: plen}
			}
		}
	}
	return nil
}

// edgeValue returns a 64-bit number near a boundary where 32-bit and
// 64-bit, signed and unsigned views differ, or a random one.
func edgeValue(rng *rand.Rand) uint64 {
	base := []uint64{0, 1 << 31, 1 << 32, 1 << 63, 0x7fffffff, 0xffffffff, 0xffffffff00000000}[rng.IntN(7)]
	switch rng.IntN(4) {
	case 0:
		return rng.Uint64()
	case 1:
		return base + uint64(rng.IntN(20))
	case 2:
		return base - uint64(rng.IntN(20))
	}
	return base ^ uint64(rng.IntN(64))<<32
}

// mutate changes one to three fields of a program at random.
func mutate(rng *rand.Rand, prog []isa.Instruction) []isa.Instruction {
	p := append([]isa.Instruction(nil), prog...)
	for n := 1 + rng.IntN(3); n > 0; n-- {
		pc := rng.IntN(len(p))
		in := &p[pc]
		switch rng.IntN(6) {
		case 0:
			in.Offset += int16(rng.IntN(5) - 2)
		case 1:
			in.Imm += int32(rng.IntN(5) - 2)
		case 2:
			in.Dst = isa.Register(rng.IntN(10))
		case 3:
			in.Src = isa.Register(rng.IntN(11))
		case 4:
			if in.Opcode.Class().IsJump() && in.IsConditionalJump() {
				ops := []isa.JumpOp{isa.JumpEq, isa.JumpNE, isa.JumpGT, isa.JumpGE, isa.JumpLT, isa.JumpLE, isa.JumpSGT, isa.JumpSLT}
				in.Opcode = in.Opcode&0x0f | isa.Opcode(ops[rng.IntN(len(ops))])
			}
		case 5:
			if c := in.Opcode.Class(); c == isa.ClassLDX || c == isa.ClassSTX || c == isa.ClassST {
				in.Opcode = in.Opcode&^0x18 | isa.Opcode(sizes[rng.IntN(4)])
			}
		}
	}
	return p
}

func (h *harness) fail(v *violation) {
	h.t.Helper()
	if errors.Is(v.err, errVerifierPanic) || errors.Is(v.err, errVerifierSlow) {
		h.t.Fatalf("soundness harness: %v\nprogram:\n%s", v.err, isa.Disassemble(v.prog))
	}
	h.t.Fatalf("soundness violation: an accepted program faulted with packet length %d: %v\n%s", v.plen, v.err, isa.Disassemble(v.prog))
}

func TestSoundness(t *testing.T) {
	seed, err := shardSeed(*soundnessSeed, *soundnessShard)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	n := *soundnessN
	short := n == 0
	if short {
		n = 300
	}
	h := &harness{t: t, info: xdpInfo(t), rng: rand.New(rand.NewPCG(1+seed, 2))}
	optsets := []progen.Options{
		{MaxLen: 48},
		{MaxLen: 64, Jumps: true},
		{MaxLen: 64, Jumps: true, Loops: true, MaxIterations: 16},
		{MaxLen: 48, Jumps: true, Atomics: true, V4: true},
	}
	progenAccepted := 0
	for i, o := range optsets {
		g := progen.New(rand.New(rand.NewPCG(uint64(i)+seed, 7)), o)
		for j := 0; j < n/4; j++ {
			prog := g.Program()
			before := h.accepted
			if v := h.try(prog, nil); v != nil {
				h.fail(v)
			}
			progenAccepted += h.accepted - before
			if v := h.try(mutate(h.rng, prog), nil); v != nil {
				h.fail(v)
			}
		}
	}
	pg := &pktgen{rng: rand.New(rand.NewPCG(3+seed, 4))}
	pkt := 0
	for j := 0; j < n*4; j++ {
		prog := pg.program(4 + pg.rng.IntN(14))
		before := h.accepted
		if v := h.try(prog, fuzzMaps); v != nil {
			h.fail(v)
		}
		pkt += h.accepted - before
		if v := h.try(mutate(h.rng, prog), fuzzMaps); v != nil {
			h.fail(v)
		}
	}
	t.Logf("soundness shard %s (seed %d): %d programs tried, %d accepted (%d of %d progen programs, %d of %d packet programs), %d checked runs of %d instructions with every state contained, no faults, %d runs past 2^28 instructions, %v",
		*soundnessShard, seed, h.tried, h.accepted, progenAccepted, n/4*len(optsets), pkt, n*4, h.runs, h.steps, h.longRuns, time.Since(start).Round(time.Millisecond))
	if progenAccepted < n/4*len(optsets)*9/10 {
		t.Errorf("only %d of %d safe progen programs accepted", progenAccepted, n/4*len(optsets))
	}
	if pkt == 0 {
		t.Errorf("no packet program accepted: the fuzzer tests nothing")
	}
}

// FuzzVerify feeds arbitrary bytecode to the verifier: it must not panic,
// and what it accepts must run without faults.
func FuzzVerify(f *testing.F) {
	pg := &pktgen{rng: rand.New(rand.NewPCG(5+*soundnessSeed, 6))}
	for i := 0; i < 8; i++ {
		f.Add(isa.Encode(pg.program(6)))
	}
	g := progen.New(rand.New(rand.NewPCG(7+*soundnessSeed, 8)), progen.Options{Jumps: true, Loops: true})
	f.Add(isa.Encode(g.Program()))
	f.Fuzz(func(t *testing.T, code []byte) {
		prog, err := isa.Decode(code)
		if err != nil || len(prog) > 4096 {
			return
		}
		h := &harness{t: t, info: xdpInfo(t), rng: rand.New(rand.NewPCG(9+*soundnessSeed, 10))}
		if v := h.try(prog, fuzzMaps); v != nil {
			h.fail(v)
		}
	})
}
