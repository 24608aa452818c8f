package amd64

import (
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

// TestLargeProgram compiles and runs a program of isa.MaxInstructions
// slots: long jumps, many blocks.
func TestLargeProgram(t *testing.T) {
	n := isa.MaxInstructions
	if testing.Short() {
		n = 1 << 16
	}
	prog := make([]isa.Instruction, 0, n)
	add := isa.Instruction{Opcode: isa.Opcode(isa.ClassALU64) | isa.Opcode(isa.ALUAdd), Dst: isa.R0, Imm: 1}
	prog = append(prog, isa.Instruction{Opcode: isa.Opcode(isa.ClassALU64) | isa.Opcode(isa.ALUMov), Dst: isa.R0})
	for len(prog) < n-2 {
		if len(prog)%1000 == 0 { // a taken forward jump over one add
			prog = append(prog, isa.Instruction{Opcode: isa.OpJA, Offset: 1})
		}
		prog = append(prog, add)
	}
	prog = append(prog[:n-2], add, isa.Instruction{Opcode: isa.OpExit})
	t0 := time.Now()
	exe, err := New().Compile(&vm.Program{Instructions: prog}, vm.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer exe.Close()
	t.Logf("compiled %d slots in %v", n, time.Since(t0))
	rc := &vm.RunContext{}
	r0, err := exe.Run(rc)
	jumps := uint64(0)
	for _, ins := range prog {
		if ins.Opcode == isa.OpJA {
			jumps++
		}
	}
	if want := uint64(n) - 2 - 2*jumps; err != nil || r0 != want || rc.Executed != uint64(n)-jumps {
		t.Errorf("r0 %d, executed %d, %v; want %d, %d", r0, rc.Executed, err, want, uint64(n)-jumps)
	}
}
