package bpfhost

import (
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bpfhost/bpfhost/internal/progen"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

// precAttackPrograms are XDP attacks on decision 0046's precision that
// the verifier accepts (verifier/precattack_test.go has them all, with
// the refused variants one byte or one check away): each writes to the
// stack or map 0's value at an offset only the new facts bound, from
// bpf_get_prandom_u32's numbers.
var precAttackPrograms = map[string]string{
	"a 32-bit fact of a number with upper bits, read by mov32": `
call 7
mov %r6, %r0
lsh %r6, 32
call 7
or %r6, %r0
mov %r7, %r6
jgt32 %r6, 3, out
jgt32 %r7, %r6, out
mov32 %r2, %r7
mov %r1, %r10
add %r1, -4
add %r1, %r2
stb [%r1+0], 0
out:
mov %r0, 2
exit`,
	"a random u32 below a register, then arsh32 and movsx": `
call 7
mov %r6, %r0
call 7
and %r0, 7
jgt32 %r6, %r0, out
arsh32 %r6, 1
movsx3264 %r2, %r6
mov %r1, %r10
add %r1, -4
add %r1, %r2
stb [%r1+0], 0
out:
mov %r0, 2
exit`,
	"a signed range shifted into the sign bit and back": `
call 7
and %r0, 3
add %r0, -1
lsh %r0, 62
arsh %r0, 62
add %r0, 1
mov %r1, %r10
add %r1, -4
add %r1, %r0
stb [%r1+0], 0
mov %r0, 2
exit`,
	"the difference of two pointers into one map value": `
call 7
and %r0, 3
stxw [%r10-4], %r0
mov %r2, %r10
add %r2, -4
lddw %r1, 0
call 1
jeq %r0, 0, out
call 7
and %r0, 8
mov %r6, %r0
mov %r2, %r10
add %r2, -4
lddw %r1, 0
call 1
jeq %r0, 0, out
mov %r7, %r0
add %r7, %r6
sub %r7, %r0
add %r0, %r7
stdw [%r0+0], 0
out:
mov %r0, 2
exit`,
	"a 32-bit fill of a spilled number, tied to it": `
call 7
and %r0, 3
stxdw [%r10-8], %r0
ldxw %r7, [%r10-8]
stw [%r10-8], -1
ldxdw %r8, [%r10-8]
mov %r1, %r10
add %r1, -4
add %r1, %r7
stb [%r1+0], 0
mov %r0, 2
exit`,
}

// TestPrecisionAttacksEngines: each of precAttackPrograms is accepted and
// runs under the containment check in the interpreter, then on every
// engine, checked and not, where a fault is a finding. 20 runs each: the
// numbers come from bpf_get_prandom_u32, so the runs vary.
func TestPrecisionAttacksEngines(t *testing.T) {
	rng := rand.New(rand.NewPCG(*hostileSeed, 46))
	engines := []CollectionOptions{{Engine: EngineInterp, Checked: true}, {Engine: EngineJIT}, {Engine: EngineJIT, Checked: true}}
	for _, name := range slices.Sorted(maps.Keys(precAttackPrograms)) {
		text := precAttackPrograms[name]
		prog, err := isa.Assemble(text)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for pc := range prog {
			if prog[pc].IsLoadImm64() && prog[pc].Src == 0 && pc+1 < len(prog) {
				prog[pc].Src = isa.PseudoMapIdx
			}
		}
		spec := hostileSpec(progen.HostileProgram{Type: progen.HostileXDP, Instructions: prog})
		c, err := NewCollection(spec, &CollectionOptions{Engine: EngineInterp, Slots: 1})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cp, err := checkProgram(spec, c.Programs["hostile"])
		if err != nil {
			t.Fatalf("%s: accepted by NewCollection, rejected on its own: %v", name, err)
		}
		for range 20 {
			if _, err := containedRun(c, spec, cp, []*checkedProg{cp}, rng); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		c.Close()
		for _, opts := range engines {
			if opts.Engine.Available() != nil {
				continue
			}
			opts.Slots = 1
			c, err := NewCollection(spec, &opts)
			if err != nil {
				t.Fatalf("%s on %s: %v", name, opts.Engine, err)
			}
			for range 20 {
				_, err := c.Programs["hostile"].Run(&RunOptions{Data: randomPacket(c.Programs["hostile"].info, rng)})
				var ae *vm.AccessError
				if errors.As(err, &ae) {
					t.Fatalf("%s on %s (checked %v): an accepted program faulted: %v", name, opts.Engine, opts.Checked, err)
				}
			}
			c.Close()
		}
	}
}
