package progen_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/internal/progen"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
)

var kinds = []struct {
	name string
	opts progen.Options
}{
	{"straight", progen.Options{}},
	{"jumps", progen.Options{Jumps: true}},
	{"loops", progen.Options{Jumps: true, Loops: true}},
	{"atomics", progen.Options{Atomics: true}},
	{"v4", progen.Options{V4: true}},
	{"all", progen.Options{Jumps: true, Loops: true, Atomics: true, V4: true}},
	{"tiny", progen.Options{MaxLen: 1, Jumps: true, Loops: true, Atomics: true, V4: true}},
	{"long", progen.Options{MaxLen: 2000, Jumps: true, Loops: true, Atomics: true, V4: true, MaxIterations: 16}},
}

// run runs a program in the interpreter with the options' step limit as its
// budget.
func run(t *testing.T, prog []isa.Instruction, mode vm.Mode, limit uint64) (uint64, uint64, error) {
	t.Helper()
	exe, err := interp.New().Compile(&vm.Program{Instructions: prog}, vm.CompileOptions{Mode: mode})
	if err != nil {
		return 0, 0, fmt.Errorf("compile: %w", err)
	}
	defer exe.Close()
	rc := &vm.RunContext{Budget: limit}
	r0, err := exe.Run(rc)
	return r0, rc.Executed, err
}

// TestPrograms checks what every generated program promises: it validates,
// keeps the contract, fits its length, runs without faults in checked mode
// within the step limit and gives the same result in both modes; and that
// options switch features off.
func TestPrograms(t *testing.T) {
	n := 1500
	if testing.Short() {
		n = 200
	}
	for ki, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			count := n
			if k.opts.MaxLen > 1000 {
				count = n / 20
			}
			g := progen.New(rand.New(rand.NewPCG(uint64(ki), 1)), k.opts)
			limit := k.opts.StepLimit()
			for i := range count {
				p := g.Program()
				fail := func(format string, args ...any) {
					t.Helper()
					t.Fatalf("program %d: %s\n%s", i, fmt.Sprintf(format, args...), isa.Disassemble(p))
				}
				if err := progen.Check(p); err != nil {
					fail("%v", err)
				}
				if len(p) > k.opts.MaxSlots() {
					fail("%d slots, at most %d expected", len(p), k.opts.MaxSlots())
				}
				for pc, ins := range p {
					f := form(ins)
					switch {
					case !k.opts.V4 && isV4(f):
						fail("instruction %d (%s) is v4", pc, ins.Text())
					case !k.opts.Atomics && ins.Opcode.Class() == isa.ClassSTX && ins.Opcode.Mode() == isa.ModeATOMIC:
						fail("instruction %d (%s) is atomic", pc, ins.Text())
					case !k.opts.Jumps && !k.opts.Loops && ins.Opcode.Class().IsJump() && !ins.IsExit():
						fail("instruction %d (%s) jumps", pc, ins.Text())
					}
					if t, ok := ins.BranchTarget(pc); ok && t <= pc && !k.opts.Loops {
						fail("instruction %d (%s) jumps back", pc, ins.Text())
					}
				}
				checked, steps, err := run(t, p, vm.Checked, limit)
				if err != nil {
					fail("checked run: %v", err)
				}
				if steps > limit {
					fail("executed %d instructions, limit %d", steps, limit)
				}
				trusted, _, err := run(t, p, vm.Trusted, limit)
				if err != nil {
					fail("trusted run: %v", err)
				}
				if checked != trusted {
					fail("checked run returned %#x, trusted %#x", checked, trusted)
				}
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	opts := progen.Options{Jumps: true, Loops: true, Atomics: true, V4: true}
	a := progen.New(rand.New(rand.NewPCG(7, 7)), opts)
	b := progen.New(rand.New(rand.NewPCG(7, 7)), opts)
	for i := range 50 {
		if pa, pb := a.Program(), b.Program(); !slices.Equal(pa, pb) {
			t.Fatalf("program %d differs with the same seed", i)
		}
	}
}

// form names an instruction's shape: what coverage counts and options gate.
func form(ins isa.Instruction) string {
	op := ins.Opcode
	cls := op.Class()
	switch {
	case cls.IsALU():
		s := fmt.Sprintf("%s/%#x/%d", cls, uint8(op.ALUOp()), op.Source()>>3)
		switch op.ALUOp() {
		case isa.ALUDiv, isa.ALUMod:
			if ins.Offset == 1 {
				s += "/signed"
			}
		case isa.ALUMov:
			if ins.Offset != 0 {
				s += fmt.Sprintf("/sx%d", ins.Offset)
			}
		case isa.ALUEnd:
			s += fmt.Sprintf("/%d", ins.Imm)
		}
		return s
	case cls.IsJump():
		if ins.IsJumpA() || ins.IsExit() {
			return fmt.Sprintf("%s/%#x", cls, uint8(op.JumpOp()))
		}
		return fmt.Sprintf("%s/%#x/%d", cls, uint8(op.JumpOp()), op.Source()>>3)
	case cls == isa.ClassSTX && op.Mode() == isa.ModeATOMIC:
		return fmt.Sprintf("atomic/%s/%#x", op.Size(), ins.Imm)
	case ins.IsLoadImm64():
		return "lddw"
	case cls.IsLoadStore() && ins.Opcode != 0:
		return fmt.Sprintf("%s/%s/%#x", cls, op.Size(), uint8(op.Mode()))
	}
	return ""
}

func isV4(f string) bool {
	return strings.HasSuffix(f, "/signed") || strings.Contains(f, "/sx") || strings.HasPrefix(f, "alu64/0xd0") ||
		f == "jmp32/0x0" || (strings.HasPrefix(f, "ldx/") && strings.HasSuffix(f, "/0x80"))
}

// wantForms lists every instruction shape the generator promises.
func wantForms() []string {
	var forms []string
	for _, cls := range []isa.Class{isa.ClassALU, isa.ClassALU64} {
		for _, op := range []isa.ALUOp{isa.ALUAdd, isa.ALUSub, isa.ALUMul, isa.ALUDiv, isa.ALUOr, isa.ALUAnd, isa.ALULsh, isa.ALURsh, isa.ALUMod, isa.ALUXor, isa.ALUMov, isa.ALUArsh} {
			for src := range 2 {
				forms = append(forms, fmt.Sprintf("%s/%#x/%d", cls, uint8(op), src))
			}
		}
		for src := range 2 {
			for _, op := range []isa.ALUOp{isa.ALUDiv, isa.ALUMod} {
				forms = append(forms, fmt.Sprintf("%s/%#x/%d/signed", cls, uint8(op), src))
			}
		}
		forms = append(forms, fmt.Sprintf("%s/0x80/0", cls))
		for _, w := range []int{8, 16} {
			forms = append(forms, fmt.Sprintf("%s/0xb0/1/sx%d", cls, w))
		}
		for _, w := range []int{16, 32, 64} {
			forms = append(forms, fmt.Sprintf("%s/0xd0/0/%d", cls, w))
		}
	}
	forms = append(forms, "alu64/0xb0/1/sx32")
	for _, w := range []int{16, 32, 64} {
		forms = append(forms, fmt.Sprintf("alu/0xd0/1/%d", w))
	}
	for _, cls := range []isa.Class{isa.ClassJMP, isa.ClassJMP32} {
		for _, op := range []isa.JumpOp{isa.JumpEq, isa.JumpGT, isa.JumpGE, isa.JumpSet, isa.JumpNE, isa.JumpSGT, isa.JumpSGE, isa.JumpLT, isa.JumpLE, isa.JumpSLT, isa.JumpSLE} {
			for src := range 2 {
				forms = append(forms, fmt.Sprintf("%s/%#x/%d", cls, uint8(op), src))
			}
		}
		forms = append(forms, fmt.Sprintf("%s/0x0", cls))
	}
	for _, s := range []isa.Size{isa.SizeB, isa.SizeH, isa.SizeW, isa.SizeDW} {
		forms = append(forms, fmt.Sprintf("ldx/%s/0x60", s), fmt.Sprintf("st/%s/0x60", s), fmt.Sprintf("stx/%s/0x60", s))
		if s != isa.SizeDW {
			forms = append(forms, fmt.Sprintf("ldx/%s/0x80", s))
		}
	}
	for _, s := range []isa.Size{isa.SizeW, isa.SizeDW} {
		for _, imm := range []int32{0, 0x40, 0x50, 0xa0, 0x01, 0x41, 0x51, 0xa1, 0xe1, 0xf1} {
			forms = append(forms, fmt.Sprintf("atomic/%s/%#x", s, imm))
		}
	}
	return append(forms, "lddw", "jmp/0x90")
}

// TestCoverage checks that every promised instruction shape turns up.
func TestCoverage(t *testing.T) {
	g := progen.New(rand.New(rand.NewPCG(1, 2)), progen.Options{Jumps: true, Loops: true, Atomics: true, V4: true, MaxLen: 200})
	seen := map[string]int{}
	for range 300 {
		for _, ins := range g.Program() {
			seen[form(ins)]++
		}
	}
	want := wantForms()
	for _, f := range want {
		if seen[f] == 0 {
			t.Errorf("no instruction of form %s in 300 programs", f)
		}
	}
	for f := range seen {
		if f != "" && !slices.Contains(want, f) {
			t.Errorf("unexpected form %s", f)
		}
	}
}

// TestStackReadsCoverWrites checks that loads are common, so that the
// written-bytes bookkeeping does not starve them.
func TestStackReadsCoverWrites(t *testing.T) {
	g := progen.New(rand.New(rand.NewPCG(3, 4)), progen.Options{Jumps: true, Loops: true, Atomics: true})
	loads, stores := 0, 0
	for range 200 {
		p := g.Program()
		for _, ins := range p[:len(p)-1] {
			switch ins.Opcode.Class() {
			case isa.ClassLDX:
				loads++
			case isa.ClassST, isa.ClassSTX:
				stores++
			}
		}
	}
	if loads < stores/2 {
		t.Errorf("%d loads for %d stores: too few loads", loads, stores)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		src  string
		ok   bool
	}{
		{"write then read", "stxdw [%r10-8], %r1\nldxw %r0, [%r10-4]\nexit", true},
		{"read unwritten", "stxw [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit", false},
		{"written on both branches", "jeq %r1, 0, +2\nstxdw [%r10-8], %r1\nja +1\nstdw [%r10-8], 3\nldxdw %r0, [%r10-8]\nexit", true},
		{"written on one branch", "jeq %r1, 0, +1\nstxdw [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit", false},
		{"written in loop", "mov %r1, 2\nstxdw [%r10-8], %r1\nsub %r1, 1\njne %r1, 0, -3\nldxdw %r0, [%r10-8]\nexit", true},
		{"atomic reads", "lock add [%r10-8], %r1\nexit", false},
		{"r10 as value", "mov %r0, %r10\nexit", false},
		{"r10 compared", "jeq %r1, %r10, +0\nexit", false},
		{"r10 stored", "stxdw [%r10-8], %r10\nexit", false},
		{"not r10-relative", "stxdw [%r1-8], %r2\nexit", false},
		{"unaligned", "stxdw [%r10-12], %r1\nexit", false},
		{"below the frame", "stxdw [%r10-520], %r1\nexit", false},
		{"above the frame", "stxb [%r10], %r1\nexit", false},
		{"shift 64", "lsh %r0, 64\nexit", false},
		{"shift32 32", "lsh32 %r0, 32\nexit", false},
		{"shift 63", "arsh %r0, 63\nexit", true},
		{"div by 0", "div %r0, 0\nexit", false},
		{"smod32 by 0", "smod32 %r0, 0\nexit", false},
		{"div by register", "div %r0, %r1\nexit", true},
		{"call", "call 1\nexit", false},
		{"unreachable", "ja +1\nmov %r0, 1\nexit", false},
		{"invalid", "mov %r10, 1\nexit", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := isa.Assemble(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if err := progen.Check(p); (err == nil) != tt.ok {
				t.Errorf("Check = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestMinimize(t *testing.T) {
	// A long program in which the interesting part is one sdiv: the
	// minimum is that instruction and the exit.
	g := progen.New(rand.New(rand.NewPCG(5, 6)), progen.Options{Jumps: true, Loops: true, Atomics: true, V4: true, MaxLen: 200})
	isSdiv := func(ins isa.Instruction) bool {
		return ins.Opcode == isa.Opcode(isa.ClassALU64)|isa.Opcode(isa.SourceX)|isa.Opcode(isa.ALUDiv) && ins.Offset == 1
	}
	for {
		p := g.Program()
		if !slices.ContainsFunc(p, isSdiv) {
			continue
		}
		calls := 0
		small := progen.Minimize(p, func(q []isa.Instruction) bool {
			calls++
			return slices.ContainsFunc(q, isSdiv)
		}, 0)
		if len(small) != 2 || !isSdiv(small[0]) || !small[1].IsExit() {
			t.Fatalf("minimized %d slots to %d, want sdiv and exit:\n%s", len(p), len(small), isa.Disassemble(small))
		}
		t.Logf("minimized %d slots to %d in %d calls", len(p), len(small), calls)
		return
	}
}

func TestMinimizeKeepsJumps(t *testing.T) {
	// Deleting the instructions between a jump and its target keeps the
	// jump pointing at the same instruction.
	p, err := isa.Assemble("jgt %r1, 5, +3\nmov %r2, 1\nmov %r3, 2\nmov %r4, 3\nmov %r0, 7\nexit")
	if err != nil {
		t.Fatal(err)
	}
	small := progen.Minimize(p, func(q []isa.Instruction) bool {
		return q[0].IsConditionalJump() && slices.ContainsFunc(q, func(ins isa.Instruction) bool { return ins.Imm == 7 })
	}, 0)
	want, _ := isa.Assemble("jgt %r1, 5, +0\nmov %r0, 7\nexit")
	if !slices.Equal(small, want) {
		t.Errorf("got\n%swant\n%s", isa.Disassemble(small), isa.Disassemble(want))
	}
}

func TestMinimizeBudget(t *testing.T) {
	g := progen.New(rand.New(rand.NewPCG(8, 9)), progen.Options{MaxLen: 100})
	p := g.Program()
	calls := 0
	progen.Minimize(p, func([]isa.Instruction) bool { calls++; return false }, 10)
	if calls != 10 {
		t.Errorf("interesting called %d times, budget 10", calls)
	}
}

func TestStepLimit(t *testing.T) {
	tests := []struct {
		opts progen.Options
		want uint64
	}{
		{progen.Options{}, progen.DefaultMaxLen + progen.Overhead},
		{progen.Options{Loops: true}, progen.DefaultMaxLen*progen.DefaultMaxIterations + progen.Overhead},
		{progen.Options{Loops: true, MaxLen: 10, MaxIterations: 5}, 50 + progen.Overhead},
		{progen.Options{MaxLen: 1 << 30}, progen.MaxMaxLen + progen.Overhead},
	}
	for _, tt := range tests {
		if got := tt.opts.StepLimit(); got != tt.want {
			t.Errorf("%+v: StepLimit = %d, want %d", tt.opts, got, tt.want)
		}
	}
}
