package daemon

import (
	"testing"

	"github.com/bpfhost/bpfhost/isa"
)

// TestKernelInsn: instructions print as Linux's print_bpf_insn prints them
// (the strings of kernel/bpf/disasm.c), the forms daemon/testdata/xlated.c
// does not hold too; TestDaemonXlatedAgreesWithBpftool compares a whole
// program with bpftool's dump.
func TestKernelInsn(t *testing.T) {
	ins := func(op isa.Opcode, dst, src isa.Register, off int16, imm int32) isa.Instruction {
		return isa.Instruction{Opcode: op, Dst: dst, Src: src, Offset: off, Imm: imm}
	}
	const (
		alu64 = isa.Opcode(isa.ClassALU64)
		alu   = isa.Opcode(isa.ClassALU)
		x     = isa.Opcode(isa.SourceX)
	)
	lddw := isa.LoadImm64(1, isa.PseudoImm64, 0x1234567890)
	fn := isa.LoadImm64(2, isa.PseudoFunc, 0)
	fn[0].Imm = 5
	for _, c := range []struct {
		insns []isa.Instruction
		want  string
	}{
		{[]isa.Instruction{ins(alu64|isa.Opcode(isa.ALUMov), 1, 0, 0, -1)}, "r1 = -1"},
		{[]isa.Instruction{ins(alu|isa.Opcode(isa.ALUAdd)|x, 1, 2, 0, 0)}, "w1 += w2"},
		{[]isa.Instruction{ins(alu64|isa.Opcode(isa.ALUMov)|x, 1, 2, 8, 0)}, "r1 = (s8)r2"},
		{[]isa.Instruction{ins(alu|isa.Opcode(isa.ALUMov)|x, 1, 2, 16, 0)}, "w1 = (s16)w2"},
		{[]isa.Instruction{ins(alu64|isa.Opcode(isa.ALUDiv), 3, 0, 1, 7)}, "r3 s/= 7"},
		{[]isa.Instruction{ins(alu|isa.Opcode(isa.ALUMod)|x, 3, 4, 1, 0)}, "w3 s%= w4"},
		{[]isa.Instruction{ins(alu64|isa.Opcode(isa.ALUArsh), 3, 0, 0, 2)}, "r3 s>>= 2"},
		{[]isa.Instruction{ins(alu|isa.Opcode(isa.ALUNeg), 5, 0, 0, 0)}, "w5 = -w5"},
		{[]isa.Instruction{ins(alu|isa.Opcode(isa.ALUEnd)|x, 1, 0, 0, 16)}, "r1 = be16 r1"},
		{[]isa.Instruction{ins(alu|isa.Opcode(isa.ALUEnd), 1, 0, 0, 32)}, "r1 = le32 r1"},
		{[]isa.Instruction{ins(alu64|isa.Opcode(isa.ALUEnd), 1, 0, 0, 64)}, "r1 = bswap64 r1"},
		{[]isa.Instruction{ins(isa.Opcode(isa.ClassLDX)|isa.Opcode(isa.ModeMEM)|isa.Opcode(isa.SizeH), 1, 10, -6, 0)}, "r1 = *(u16 *)(r10 -6)"},
		{[]isa.Instruction{ins(isa.Opcode(isa.ClassLDX)|isa.Opcode(isa.ModeMEMSX)|isa.Opcode(isa.SizeB), 1, 2, 0, 0)}, "r1 = *(s8 *)(r2 +0)"},
		{[]isa.Instruction{ins(isa.Opcode(isa.ClassST)|isa.Opcode(isa.ModeMEM)|isa.Opcode(isa.SizeDW), 10, 0, -8, -2)}, "*(u64 *)(r10 -8) = -2"},
		{[]isa.Instruction{ins(isa.Opcode(isa.ClassSTX)|isa.Opcode(isa.ModeMEM)|isa.Opcode(isa.SizeW), 10, 3, -4, 0)}, "*(u32 *)(r10 -4) = r3"},
		{[]isa.Instruction{ins(isa.Opcode(isa.ClassSTX)|isa.Opcode(isa.ModeATOMIC)|isa.Opcode(isa.SizeW), 1, 2, 4, isa.AtomicXor)}, "lock *(u32 *)(r1 +4) ^= r2"},
		{[]isa.Instruction{ins(isa.Opcode(isa.ClassSTX)|isa.Opcode(isa.ModeATOMIC)|isa.Opcode(isa.SizeDW), 1, 2, 0, isa.AtomicAnd|isa.AtomicFetch)}, "r2 = atomic64_fetch_and((u64 *)(r1 +0), r2)"},
		{[]isa.Instruction{ins(isa.Opcode(isa.ClassSTX)|isa.Opcode(isa.ModeATOMIC)|isa.Opcode(isa.SizeW), 1, 2, 0, isa.AtomicXchg)}, "r2 = atomic_xchg((u32 *)(r1 +0), r2)"},
		{[]isa.Instruction{ins(isa.Opcode(isa.ClassSTX)|isa.Opcode(isa.ModeATOMIC)|isa.Opcode(isa.SizeDW), 1, 2, -8, isa.AtomicCmpXchg)}, "r0 = atomic64_cmpxchg((u64 *)(r1 -8), r0, r2)"},
		{[]isa.Instruction{ins(isa.Opcode(isa.ClassLD)|isa.Opcode(isa.ModeABS)|isa.Opcode(isa.SizeH), 0, 0, 0, 12)}, "r0 = *(u16 *)skb[12]"},
		{[]isa.Instruction{ins(isa.Opcode(isa.ClassLD)|isa.Opcode(isa.ModeIND)|isa.Opcode(isa.SizeB), 0, 3, 0, 2)}, "r0 = *(u8 *)skb[r3 + 2]"},
		{lddw[:], "r1 = 0x1234567890"},
		{fn[:], "r2 = subprog[+5]"},
		{[]isa.Instruction{ins(isa.OpJA, 0, 0, -3, 0)}, "goto pc-3"},
		{[]isa.Instruction{ins(isa.OpJA32, 0, 0, 0, 70000)}, "gotol pc+70000"},
		{[]isa.Instruction{ins(isa.Opcode(isa.ClassJMP32)|isa.Opcode(isa.JumpSGT), 3, 0, 2, -4)}, "if w3 s> 0xfffffffc goto pc+2"},
		{[]isa.Instruction{ins(isa.Opcode(isa.ClassJMP)|isa.Opcode(isa.JumpSet)|x, 1, 2, 1, 0)}, "if r1 & r2 goto pc+1"},
		{[]isa.Instruction{ins(isa.OpCall, 0, isa.CallHelper, 0, 1)}, "call bpf_map_lookup_elem#1"},
		{[]isa.Instruction{ins(isa.OpCall, 0, isa.CallLocal, 0, 7)}, "call pc+7"},
		{[]isa.Instruction{ins(isa.OpCall, 0, isa.CallKfunc, 0, 1234)}, "call kfunc#1234"},
		{[]isa.Instruction{ins(isa.OpCallX, 2, 0, 0, 0)}, "callx r2"},
		{[]isa.Instruction{ins(isa.OpExit, 0, 0, 0, 0)}, "exit"},
	} {
		got, n := kernelInsn(c.insns, 0, "")
		if got != c.want || n != len(c.insns) {
			t.Errorf("%+v: %q (%d slots), want %q (%d)", c.insns[0], got, n, c.want, len(c.insns))
		}
	}
	lddwMap := isa.LoadImm64(1, isa.PseudoMapFD, 0)
	if got, n := kernelInsn(lddwMap[:], 0, "map[id:3]"); got != "r1 = map[id:3]" || n != 2 {
		t.Errorf("map lddw: %q (%d slots)", got, n)
	}
}
