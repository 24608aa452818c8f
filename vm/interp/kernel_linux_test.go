package interp_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/bpfhost/bpfhost/internal/progen"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
)

var (
	kernelCount = flag.Int("kernel.count", 0, "programs of each kind that TestKernelDifferential compares with the Linux kernel (0: 400, 50 with -short)")
	kernelSeed  = flag.Uint64("kernel.seed", 0, "seed of TestKernelDifferential's first program; program i uses seed+i (0: random)")
)

// kernelKinds are the option sets TestKernelDifferential draws programs from.
var kernelKinds = []struct {
	name string
	opts progen.Options
	v4   bool // needs ISA v4 support in the kernel
}{
	{"straight", progen.Options{MaxLen: 96}, false},
	{"jumps", progen.Options{MaxLen: 96, Jumps: true}, false},
	{"loops", progen.Options{MaxLen: 96, Jumps: true, Loops: true}, false},
	{"atomics", progen.Options{MaxLen: 96, Jumps: true, Atomics: true}, false},
	{"v4", progen.Options{MaxLen: 96, Jumps: true, Loops: true, Atomics: true, V4: true}, true},
}

// kernelPacket is the test-run input. Socket filters need at least an
// Ethernet header's 14 bytes; the programs never read it.
var kernelPacket = make([]byte, 64)

// loadKernel loads a program into the kernel as a socket filter.
func loadKernel(p []isa.Instruction) (*ebpf.Program, error) {
	code := isa.Encode(p)
	insns, err := asm.AppendInstructions(nil, bytes.NewReader(code), binary.LittleEndian, "linux")
	if err != nil {
		return nil, fmt.Errorf("decode with cilium/ebpf: %w", err)
	}
	// The bytes that reach the kernel must be ours: a library that
	// re-encoded an instruction differently would test something else.
	var back bytes.Buffer
	if err := insns.Marshal(&back, binary.LittleEndian); err != nil {
		return nil, fmt.Errorf("encode with cilium/ebpf: %w", err)
	}
	if !bytes.Equal(back.Bytes(), code) {
		return nil, fmt.Errorf("cilium/ebpf re-encodes the program differently")
	}
	return ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SocketFilter, Instructions: insns, License: "MIT"})
}

// runKernel loads and test-runs a program and returns its 32-bit result.
func runKernel(p []isa.Instruction) (uint32, error) {
	prog, err := loadKernel(p)
	if err != nil {
		return 0, err
	}
	defer prog.Close()
	return prog.Run(&ebpf.RunOptions{Data: kernelPacket})
}

// highHalf returns a program changed to return r0 >> 32: the shift takes
// the place of the final exit, which moves after it, so that a jump to the
// exit (minimized programs have them) runs the shift too.
func highHalf(p []isa.Instruction) []isa.Instruction {
	q := append([]isa.Instruction(nil), p[:len(p)-1]...)
	return append(q,
		isa.Instruction{Opcode: isa.Opcode(isa.ClassALU64) | isa.Opcode(isa.ALURsh), Dst: isa.R0, Imm: 32},
		isa.Instruction{Opcode: isa.OpExit})
}

// kernelResult returns the program's full 64-bit r0 in the kernel. A test
// run returns only 32 bits, so the program runs twice: as it is for the low
// half and with r0 shifted right by 32 for the high half.
func kernelResult(p []isa.Instruction) (uint64, error) {
	lo, err := runKernel(p)
	if err != nil {
		return 0, err
	}
	hi, err := runKernel(highHalf(p))
	if err != nil {
		return 0, fmt.Errorf("high half: %w", err)
	}
	return uint64(hi)<<32 | uint64(lo), nil
}

// interpResult runs a program in both interpreter modes and returns r0; the
// modes must agree.
func interpResult(p []isa.Instruction, budget uint64) (uint64, error) {
	var results [2]uint64
	for i, mode := range []vm.Mode{vm.Checked, vm.Trusted} {
		exe, err := interp.New().Compile(&vm.Program{Instructions: p}, vm.CompileOptions{Mode: mode})
		if err != nil {
			return 0, fmt.Errorf("%s compile: %w", mode, err)
		}
		rc := &vm.RunContext{Budget: budget}
		results[i], err = exe.Run(rc)
		exe.Close()
		if err != nil {
			return 0, fmt.Errorf("%s run: %w", mode, err)
		}
	}
	if results[0] != results[1] {
		return 0, fmt.Errorf("checked run returned %#x, trusted %#x", results[0], results[1])
	}
	return results[0], nil
}

// kernelAvailable loads and runs a trivial program, and skips the test where
// bpf() is not permitted or test runs are not supported.
func kernelAvailable(t *testing.T) {
	t.Helper()
	p, err := isa.Assemble("mov %r0, 42\nexit")
	if err != nil {
		t.Fatal(err)
	}
	got, err := runKernel(p)
	switch {
	case errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EACCES), errors.Is(err, os.ErrPermission):
		t.Skipf("bpf() is not permitted: %v", err)
	case errors.Is(err, syscall.ENOSYS), errors.Is(err, ebpf.ErrNotSupported):
		t.Skipf("bpf() or BPF_PROG_TEST_RUN is not supported: %v", err)
	case err != nil:
		t.Fatalf("loading a trivial program into the kernel: %v", err)
	case got != 42:
		t.Fatalf("trivial program returned %d in the kernel, want 42", got)
	}
}

// kernelHasV4 reports whether the kernel accepts the ISA v4 forms: sdiv,
// movsx, sign-extending loads, bswap and gotol.
func kernelHasV4(t *testing.T) bool {
	t.Helper()
	p, err := isa.Assemble(`
		mov %r0, -7
		sdiv %r0, 2
		movsx864 %r0, %r0
		stxdw [%r10-8], %r0
		ldxsb %r0, [%r10-8]
		bswap16 %r0
		ja32 +0
		exit`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := runKernel(p)
	if err != nil {
		t.Logf("kernel rejects ISA v4, testing without it: %v", err)
		return false
	}
	if got != 0xfdff {
		t.Fatalf("v4 probe returned %#x in the kernel, want 0xfdff", got)
	}
	return true
}

// A kernelBug is a known way in which the kernel departs from the
// instruction set, with a program that shows it and a rewrite that hides it.
// The test probes each and, where the kernel has the bug, rewrites every
// program before both the kernel and the interpreter run it, so that the
// comparison looks past the bug and still covers everything else.
type kernelBug struct {
	name  string
	probe string // returns want on a correct kernel
	want  uint32
	// rewrite returns what to put before and after an instruction; the
	// additions must not change what the program computes.
	rewrite func(isa.Instruction) (before, after []isa.Instruction)
}

var kernelBugs = []kernelBug{
	{
		// The instruction set says cmpxchg zero-extends the old value into
		// r0 in either case, but x86's cmpxchg leaves rax alone when the
		// comparison succeeds, so the kernel relies on the verifier to
		// append a zero extension where a later instruction reads r0 as 64
		// bits. Linux 6.18 misses the read (the rsh) when it is reached on a
		// path the verifier prunes: the probe returns 0x11223344.
		name: "no zero extension of r0 after cmpxchg32 on pruned paths",
		probe: `
			lddw %r0, 0x1122334455667788
			lddw %r2, 0x100000001
			lddw %r5, 0x6218e0c91803a65b
			lddw %r7, 0x100000000
			lddw %r9, 0x100000001
			div %r7, %r5
			jsgt32 %r9, -1254649938, +0
			stxw [%r10-16], %r0
			lock cmpxchg32 [%r10-16], %r2
			jne32 %r7, %r5, +1
			mov32 %r0, %r0
			rsh %r0, 32
			exit`,
		want: 0,
		rewrite: func(ins isa.Instruction) (before, after []isa.Instruction) {
			if ins.Opcode == opAtomicW && ins.Imm == isa.AtomicCmpXchg {
				after = []isa.Instruction{{Opcode: isa.Opcode(isa.ClassALU) | isa.Opcode(isa.SourceX) | isa.Opcode(isa.ALUMov), Dst: isa.R0, Src: isa.R0}}
			}
			return before, after
		},
	},
	{
		// Precision backtracking treats a fetching atomic as a plain store:
		// when a branch on the fetched register is decided, the verifier
		// marks the register's earlier value precise instead of the stack
		// slot it was loaded from. A path that reaches the atomic with
		// another value in the slot is then pruned as equivalent, and the
		// branch is hard-wired from the first path's value. In the probe,
		// the verifier walks only the (impossible) path where r3 is
		// negative, concludes that jset always jumps and removes the mov32:
		// the probe returns 0 instead of 0x23888df6. Two xors of the slot
		// with the same register before the atomic change nothing, but
		// leave the slot unknown to the verifier, so no branch on the
		// fetched value is decided.
		name: "fetching atomics lose precision of the stack slot",
		probe: `
			lddw %r2, 0xfffffffffffffff3
			lddw %r3, 0x7
			lddw %r4, 0x6cc691f7657f09af
			lddw %r5, 0x7fffffffffffffff
			lddw %r8, 0xffffffffdc777209
			rsh32 %r3, %r4
			mov %r0, %r5
			jsge %r3, -212918069, +1
			ja +0
			stxdw [%r10-96], %r3
			lock xchg [%r10-96], %r2
			lddw %r9, 0xfffffffffffffff8
			jset %r2, %r9, +1
			mov32 %r5, %r8
			xor %r0, %r5
			exit`,
		want: 0x23888df6,
		rewrite: func(ins isa.Instruction) (before, after []isa.Instruction) {
			if (ins.Opcode == opAtomicW || ins.Opcode == opAtomicDW) && ins.Imm&isa.AtomicFetch != 0 {
				xor := isa.Instruction{Opcode: ins.Opcode, Dst: ins.Dst, Src: isa.R0, Offset: ins.Offset, Imm: isa.AtomicXor}
				before = []isa.Instruction{xor, xor}
			}
			return before, after
		},
	},
}

const (
	opAtomicW  = isa.Opcode(isa.ClassSTX) | isa.Opcode(isa.SizeW) | isa.Opcode(isa.ModeATOMIC)
	opAtomicDW = isa.Opcode(isa.ClassSTX) | isa.Opcode(isa.SizeDW) | isa.Opcode(isa.ModeATOMIC)
)

// kernelWorkarounds probes the known kernel bugs and returns the rewrite
// that hides those the kernel has.
func kernelWorkarounds(t *testing.T) func([]isa.Instruction) []isa.Instruction {
	t.Helper()
	var present []kernelBug
	for _, bug := range kernelBugs {
		p, err := isa.Assemble(bug.probe)
		if err != nil {
			t.Fatalf("probe for %q: %v", bug.name, err)
		}
		if got, err := interpResult(p, 1000); err != nil || uint32(got) != bug.want {
			t.Fatalf("probe for %q returns %#x, %v in the interpreter, want %#x", bug.name, got, err, bug.want)
		}
		got, err := runKernel(p)
		if err != nil {
			t.Fatalf("probe for %q: %v", bug.name, err)
		}
		if got != bug.want {
			t.Logf("kernel bug: %s (probe returned %#x, want %#x): rewriting programs around it", bug.name, got, bug.want)
			present = append(present, bug)
		}
	}
	return func(p []isa.Instruction) []isa.Instruction {
		for _, bug := range present {
			p = rewrite(p, bug.rewrite)
		}
		return p
	}
}

// rewrite returns a copy of p with instructions added before and after
// others. A jump to an instruction lands on what was added before it, so
// that the addition runs on every path; a jump to the instruction after one
// lands after what was added after it.
func rewrite(p []isa.Instruction, f func(isa.Instruction) (before, after []isa.Instruction)) []isa.Instruction {
	type group struct{ before, after []isa.Instruction }
	groups := make([]group, len(p))
	at := make([]int, len(p)+1) // at[i]: new index of the start of old slot i's group
	for i, ins := range p {
		if i > 0 && p[i-1].IsLoadImm64() {
			at[i+1] = at[i] + 1 // the second slot of an lddw stays with it
			continue
		}
		groups[i].before, groups[i].after = f(ins)
		at[i+1] = at[i] + len(groups[i].before) + 1 + len(groups[i].after)
	}
	out := make([]isa.Instruction, 0, at[len(p)])
	for pc, ins := range p {
		out = append(out, groups[pc].before...)
		if t, ok := ins.BranchTarget(pc); ok && !ins.IsLocalCall() {
			off := at[t] - len(out) - 1
			if ins.Opcode == isa.OpJA32 {
				ins.Imm = int32(off)
			} else {
				ins.Offset = int16(off)
			}
		}
		out = append(out, ins)
		out = append(out, groups[pc].after...)
	}
	return out
}

// TestKernelDifferential runs random programs (internal/progen) in the Linux
// kernel, through BPF_PROG_TEST_RUN, and in the interpreter in both modes,
// and compares all 64 bits of r0. The generator's epilogue folds every
// register and written stack slot into r0, so r0 stands for the whole state.
// A program the kernel rejects is a generator bug and fails the test too.
func TestKernelDifferential(t *testing.T) {
	kernelAvailable(t)
	v4 := kernelHasV4(t)
	fix := kernelWorkarounds(t)

	count := *kernelCount
	if count <= 0 {
		count = 400
		if testing.Short() {
			count = 50
		}
	}
	seed := *kernelSeed
	if seed == 0 {
		seed = rand.Uint64() >> 1
	}
	jit := "unknown"
	if b, err := os.ReadFile("/proc/sys/net/core/bpf_jit_enable"); err == nil {
		jit = strings.TrimSpace(string(b))
	}
	t.Logf("seed %d, %d programs of each kind, bpf_jit_enable %s", seed, count, jit)

	total := 0
	for _, kind := range kernelKinds {
		t.Run(kind.name, func(t *testing.T) {
			if kind.v4 && !v4 {
				t.Skip("the kernel does not support ISA v4")
			}
			start := time.Now()
			mismatches := 0
			for i := range count {
				s := seed + uint64(i)
				orig := progen.New(rand.New(rand.NewPCG(s, 0)), kind.opts).Program()
				p := fix(orig)
				if err := progen.Check(p); err != nil {
					t.Fatalf("seed %d: rewritten around kernel bugs, the program breaks the contract: %v\n%s", s, err, isa.Disassemble(p))
				}
				// The rewrites add up to three instructions per atomic,
				// which may run in loops: allow for them.
				budget := 4 * kind.opts.StepLimit()
				reproduce := fmt.Sprintf("go test ./vm/interp -run 'TestKernelDifferential/%s$' -kernel.seed=%d -kernel.count=1", kind.name, s)

				want, err := kernelResult(p)
				if err != nil {
					t.Fatalf("seed %d: the kernel rejects a generated program: %+v\n%s\nreproduce: %s", s, err, isa.Disassemble(p), reproduce)
				}
				got, err := interpResult(p, budget)
				if err != nil {
					t.Fatalf("seed %d: %v\n%s\nreproduce: %s", s, err, isa.Disassemble(p), reproduce)
				}
				total++
				if got == want {
					continue
				}
				mismatches++
				t.Errorf("seed %d: kernel r0 = %#x, interpreter r0 = %#x\n%s\nreproduce: %s\n%s",
					s, want, got, isa.Disassemble(p), reproduce, minimizeMismatch(orig, fix, budget))
				if mismatches == 3 {
					t.Fatalf("stopping after %d mismatches", mismatches)
				}
			}
			t.Logf("%d programs in %v", count, time.Since(start).Round(time.Millisecond))
		})
	}
	t.Logf("compared %d programs with the kernel", total)
}

// minimizeMismatch shrinks a program on which the kernel and the
// interpreter disagree and describes the smallest one found.
func minimizeMismatch(p []isa.Instruction, fix func([]isa.Instruction) []isa.Instruction, budget uint64) string {
	var want, got uint64
	small := progen.Minimize(p, func(q []isa.Instruction) bool {
		q = fix(q)
		// The interpreter first: it stops a candidate that loops forever
		// at its budget, where the kernel's verifier would toil.
		i, err := interpResult(q, budget)
		if err != nil {
			return false
		}
		k, err := kernelResult(q)
		if err != nil {
			return false
		}
		if k != i {
			want, got = k, i
			return true
		}
		return false
	}, 3000)
	if len(small) == len(p) {
		return "minimization found no smaller program"
	}
	small = fix(small)
	var b strings.Builder
	fmt.Fprintf(&b, "minimized to %d slots: kernel r0 = %#x, interpreter r0 = %#x\n", len(small), want, got)
	for pc, ins := range small {
		if pc > 0 && small[pc-1].IsLoadImm64() {
			continue
		}
		text := ins.Text()
		if ins.IsLoadImm64() {
			text = fmt.Sprintf("lddw %%r%d, %#x", ins.Dst, isa.Imm64(ins, small[pc+1]))
		}
		fmt.Fprintf(&b, "%4d: %s\n", pc, text)
	}
	return b.String()
}

func TestRewrite(t *testing.T) {
	p, err := isa.Assemble("jeq %r1, 0, +1\nlock fetch add [%r10-8], %r2\njne %r1, 1, -2\nlddw %r0, 5\njgt %r1, 2, -3\nexit")
	if err != nil {
		t.Fatal(err)
	}
	got := rewrite(p, func(ins isa.Instruction) (before, after []isa.Instruction) {
		if ins.Opcode == opAtomicDW {
			before = []isa.Instruction{{Opcode: isa.Opcode(isa.ClassALU64) | isa.Opcode(isa.ALUMov), Dst: isa.R3, Imm: 3}}
			after = []isa.Instruction{{Opcode: isa.Opcode(isa.ClassALU64) | isa.Opcode(isa.ALUMov), Dst: isa.R4, Imm: 4}}
		}
		return before, after
	})
	// A jump to the atomic lands on what goes before it; a jump past it
	// lands past what goes after it.
	want, err := isa.Assemble("jeq %r1, 0, +3\nmov %r3, 3\nlock fetch add [%r10-8], %r2\nmov %r4, 4\njne %r1, 1, -4\nlddw %r0, 5\njgt %r1, 2, -3\nexit")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%swant\n%s", isa.Disassemble(got), isa.Disassemble(want))
	}
}
