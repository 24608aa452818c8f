package progen

import (
	"math/rand/v2"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
)

// TestFoldSeesEveryRegister checks that flipping any bit of any register or
// folded stack slot before the epilogue changes r0.
func TestFoldSeesEveryRegister(t *testing.T) {
	g := New(rand.New(rand.NewPCG(1, 1)), Options{})
	g.out = nil
	g.window = 16
	g.prologue()
	g.written.add(-16, 16)
	for off := int16(-16); off < 0; off += 8 {
		g.out = append(g.out, isa.Instruction{Opcode: isa.Opcode(isa.ClassSTX) | isa.Opcode(isa.SizeDW) | isa.Opcode(isa.ModeMEM), Dst: isa.RFP, Src: isa.R3, Offset: off})
	}
	body := len(g.out)
	g.epilogue()
	base := g.out
	if err := Check(base); err != nil {
		t.Fatal(err)
	}
	want := runProgram(t, base)
	for bit := range 64 {
		for r := range 10 { // lddw r, imm: slots 2r and 2r+1
			p := append([]isa.Instruction(nil), base...)
			v := isa.Imm64(p[2*r], p[2*r+1]) ^ 1<<bit
			lo := isa.LoadImm64(isa.Register(r), isa.PseudoImm64, v)
			p[2*r], p[2*r+1] = lo[0], lo[1]
			if runProgram(t, p) == want {
				t.Errorf("flipping bit %d of r%d does not change r0", bit, r)
			}
		}
		// The slots: xor a bit into one of them just before the epilogue.
		for _, off := range []int16{-16, -8} {
			p := append([]isa.Instruction(nil), base[:body]...)
			p = append(p, loadImm64(isa.R4, 1<<bit)...)
			p = append(p, isa.Instruction{Opcode: isa.Opcode(isa.ClassSTX) | isa.Opcode(isa.SizeDW) | isa.Opcode(isa.ModeATOMIC), Dst: isa.RFP, Src: isa.R4, Offset: off, Imm: isa.AtomicXor})
			// Restore r4, which the lddw overwrote.
			p = append(p, base[8:10]...)
			p = append(p, base[body:]...)
			if runProgram(t, p) == want {
				t.Errorf("flipping bit %d of the slot at %d does not change r0", bit, off)
			}
		}
	}
}

func runProgram(t *testing.T, p []isa.Instruction) uint64 {
	t.Helper()
	exe, err := interp.New().Compile(&vm.Program{Instructions: p}, vm.CompileOptions{Mode: vm.Checked})
	if err != nil {
		t.Fatal(err)
	}
	r0, err := exe.Run(&vm.RunContext{})
	if err != nil {
		t.Fatal(err)
	}
	return r0
}
