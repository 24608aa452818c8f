package progen

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
)

// testLayout is testdata/btfptr/kernel.o's struct task_struct.
var testLayout = TaskLayout{Size: 56, Flags: 4, Pid: 24, Tgid: 28, RealParent: 32, Comm: 40}

// BTFTyped programs assemble into valid programs of HostileTPBTF, the same
// for the same seed, with every callback address resolved to a function
// start and every fragment made.
func TestBTFTyped(t *testing.T) {
	g := NewBTFTyped(rand.New(rand.NewPCG(5, 6)), testLayout)
	again := NewBTFTyped(rand.New(rand.NewPCG(5, 6)), testLayout)
	for frag := 0; frag < BTFFragments; frag++ {
		g.Only, again.Only = []int{frag}, []int{frag}
		for i := 0; i < 50; i++ {
			p, q := g.Program(), again.Program()
			if p.Source != q.Source {
				t.Fatalf("fragment %d: not deterministic", frag)
			}
			if p.Type != HostileTPBTF {
				t.Fatalf("type %d", p.Type)
			}
			if err := isa.Validate(p.Instructions); err != nil {
				t.Fatalf("fragment %d: %v\n%s", frag, err, p.Source)
			}
			for pc, in := range p.Instructions {
				if in.IsLoadImm64() && in.Src == isa.PseudoFunc {
					target := pc + 1 + int(in.Imm)
					if target <= pc || target >= len(p.Instructions) || p.Instructions[target].Opcode != movImm(0, 0).Opcode {
						t.Fatalf("fragment %d: callback at %d does not start a callback\n%s", frag, target, p.Source)
					}
				}
				if in.IsLoadImm64() && in.Src == isa.PseudoImm64 && slices.Contains([]int32{mapMark, ringbufMark}, in.Imm) {
					t.Fatalf("fragment %d: unresolved map mark\n%s", frag, p.Source)
				}
			}
		}
	}
}
