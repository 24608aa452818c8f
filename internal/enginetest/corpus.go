package enginetest

import (
	"fmt"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

// Program is one of the suites' programs that runs to an answer, for
// checks beyond the engines (the verifier's containment check).
type Program struct {
	Name  string
	Insns []isa.Instruction
	// Want is the r0 a run returns, where HasWant says the suite knows it.
	Want    uint64
	HasWant bool
}

// LinuxLoop is bpf_loop's Linux helper ID. The callback suite calls its
// loop helper (a bpf_loop: n, callback, ctx) as helper 1; Programs gives
// it this ID, so that the verifier checks the calls as bpf_loop's.
const LinuxLoop = 181

// LoopHelper is the callback suite's bpf_loop, for LinuxLoop.
var LoopHelper vm.Helper = loopHelper

// Programs returns the suites' programs that end normally and need no
// input memory and no helper but the loop helper (as LinuxLoop): the
// semantics table, the call tests, the callbacks that run to an answer,
// and the benchmark loops. It fails t if one does not assemble.
func Programs(t testing.TB) []Program {
	t.Helper()
	var out []Program
	add := func(name string, prog []isa.Instruction, want uint64, has bool) {
		out = append(out, Program{Name: name, Insns: prog, Want: want, HasWant: has})
	}
	asm := func(src string) []isa.Instruction {
		t.Helper()
		prog, err := isa.Assemble(src)
		if err != nil {
			t.Fatalf("assemble: %v\n%s", err, src)
		}
		return prog
	}
	for _, tt := range semantics {
		add("semantics: "+tt.name, asm(withExit(tt.src)), tt.want, true)
	}
	add("calls: frames", asm(frames), 6+7+8+9+42+512, true)
	add("calls: fib", asm(fib), 610, true)
	for n := 1; n <= vm.MaxCallDepth; n++ {
		src, want := chain(n)
		add(fmt.Sprintf("calls: chain of %d", n), asm(src), want, true)
	}
	add("bench: ArithLoop", asm(ArithLoop), 0, false)
	add("bench: MemLoop", asm(MemLoop), 0, false)
callbacks:
	for _, tt := range callbacks {
		if tt.err != nil || tt.budget != 0 {
			continue
		}
		prog := AssembleFunc(t, tt.src)
		for i, in := range prog {
			if in.Opcode == isa.OpCall && in.Src == isa.CallHelper {
				if in.Imm != 1 {
					continue callbacks // the depth helper has no Linux counterpart
				}
				prog[i].Imm = LinuxLoop
			}
		}
		add("callbacks: "+tt.name, prog, tt.want, true)
	}
	return out
}
