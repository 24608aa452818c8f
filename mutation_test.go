package bpfhost_test

import (
	"errors"
	"flag"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/verifier"
	"github.com/bpfhost/bpfhost/vm"
)

// mutants sets how many mutants TestMutantsSound tries; long runs raise it.
var mutants = flag.Int("bpfhost.mutants", 1500, "mutants of the repository's programs that TestMutantsSound verifies")

// mutantObjects, if set, replaces the objects TestMutantsSound mutates.
var mutantObjects = flag.String("bpfhost.mutant-objects", "", "glob of the objects TestMutantsSound mutates instead of the repository's (testdata/iter/iter.o: the iterators)")

// mutantSeed varies the mutants of long runs.
var mutantSeed = flag.Uint64("bpfhost.mutant-seed", 0, "seed of TestMutantsSound's mutations")

// TestMutantsSound is the soundness fuzzer on real programs: the repository's
// clang objects (packet parsers, map lookups, helpers, loops, calls, tail
// calls) with one instruction mutated (an offset, an immediate, a register, a
// jump condition or target). Every mutant the verifier accepts is loaded into
// the checked interpreter and run on random packets: any fault, any helper
// argument error, is a soundness bug. Beside verifier.TestSoundness, whose
// random programs rarely look like these.
//
//	go test -run TestMutantsSound -bpfhost.mutants=200000 -bpfhost.mutant-seed=S .
func TestMutantsSound(t *testing.T) {
	var objects []string
	patterns := []string{"examples/*.o", "testdata/agreement/*.o", "verifier/testdata/safe.o", "verifier/testdata/v4.o", "bench/progs/*.o", "testdata/iter/iter.o"}
	if *mutantObjects != "" {
		patterns = []string{*mutantObjects}
	}
	for _, pattern := range patterns {
		files, _ := filepath.Glob(pattern)
		objects = append(objects, files...)
	}
	type target struct {
		spec *bpfhost.CollectionSpec
		prog int
	}
	var targets []target
	for _, file := range objects {
		spec, err := bpfhost.LoadCollectionSpec(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, ps := range spec.Programs {
			info, ok := linux.ABI().Lookup(ps.Section)
			if !ok || info.TestRun == platform.TestRunNone {
				continue
			}
			if _, err := verifier.Verify(ps.Instructions, bpfhost.VerifierOptions(spec, ps, info)); err != nil {
				continue // the corpus's unsafe programs
			}
			targets = append(targets, target{spec, i})
		}
	}
	if len(targets) == 0 {
		t.Fatal("no programs to mutate")
	}
	rng := rand.New(rand.NewPCG(*mutantSeed, 99))
	tried, accepted, runs, loadErrs := 0, 0, 0, 0
	for tried < *mutants {
		tg := targets[rng.IntN(len(targets))]
		orig := tg.spec.Programs[tg.prog]
		insns := mutate(rng, orig.Instructions)
		if insns == nil || isa.Validate(insns) != nil {
			continue
		}
		tried++
		ps := *orig
		ps.Instructions = insns
		info, _ := linux.ABI().Lookup(ps.Section)
		if _, err := verifier.Verify(insns, bpfhost.VerifierOptions(tg.spec, &ps, info)); err != nil {
			continue
		}
		accepted++
		spec := *tg.spec
		spec.Programs = append([]*bpfhost.ProgramSpec(nil), spec.Programs...)
		spec.Programs[tg.prog] = &ps // tail calls reach the others
		coll, err := bpfhost.NewCollection(&spec, &bpfhost.CollectionOptions{Unverified: true})
		if err != nil {
			loadErrs++
			if loadErrs <= 3 {
				t.Logf("load: %v", err)
			}
			continue
		}
		p := coll.Programs[ps.Name]
		for i := 0; i < 4; i++ {
			runs++
			pkt := make([]byte, []int{14, 20, 34, 54, 60, 64, 128, 200}[rng.IntN(8)])
			for j := range pkt {
				pkt[j] = byte(rng.Uint32())
			}
			if rng.IntN(2) == 0 { // mostly valid Ethernet + IPv4 or IPv6
				copy(pkt[12:], []byte{0x08, 0x00, 0x45})
				if rng.IntN(3) == 0 {
					copy(pkt[12:], []byte{0x86, 0xdd, 0x60})
				}
			}
			_, err := p.Run(&bpfhost.RunOptions{Data: pkt})
			var ee *vm.ExecError
			if err != nil && errors.As(err, &ee) && !errors.Is(err, vm.ErrBudgetExceeded) {
				t.Errorf("soundness: an accepted mutant of %s faulted on a %d-byte packet: %v\n%s",
					orig.Name, len(pkt), err, isa.Disassemble(insns))
				break
			}
		}
		coll.Close()
		if t.Failed() {
			break
		}
	}
	t.Logf("mutants: %d tried, %d accepted, %d checked runs, %d accepted but not loadable", tried, accepted, runs, loadErrs)
}

// mutate changes one instruction of prog: an offset, an immediate, a
// register, a jump's condition or target. It returns nil if the chosen
// slot has nothing to change.
func mutate(rng *rand.Rand, prog []isa.Instruction) []isa.Instruction {
	out := append([]isa.Instruction(nil), prog...)
	pc := rng.IntN(len(out))
	if pc > 0 && out[pc-1].IsLoadImm64() {
		pc--
	}
	ins := &out[pc]
	small := []int32{-8, -4, -2, -1, 1, 2, 4, 8}
	switch rng.IntN(5) {
	case 0:
		ins.Offset += int16(small[rng.IntN(len(small))])
	case 1:
		if ins.IsLoadImm64() {
			return nil
		}
		switch rng.IntN(3) {
		case 0:
			ins.Imm += small[rng.IntN(len(small))]
		case 1:
			ins.Imm = int32(rng.IntN(80)) - 8
		default:
			ins.Imm = int32(rng.Uint32())
		}
	case 2:
		ins.Dst = isa.Register(rng.IntN(10))
	case 3:
		ins.Src = isa.Register(rng.IntN(11))
	default:
		cls := ins.Opcode.Class()
		if cls != isa.ClassJMP && cls != isa.ClassJMP32 || ins.IsExit() || ins.Opcode == isa.OpCall {
			return nil
		}
		ops := []isa.JumpOp{isa.JumpEq, isa.JumpNE, isa.JumpGT, isa.JumpGE, isa.JumpLT, isa.JumpLE, isa.JumpSGT, isa.JumpSGE, isa.JumpSLT, isa.JumpSLE, isa.JumpSet}
		ins.Opcode = isa.Opcode(uint8(ins.Opcode)&0x0f) | isa.Opcode(ops[rng.IntN(len(ops))])
	}
	return out
}
