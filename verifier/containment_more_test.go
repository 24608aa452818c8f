package verifier

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// eachKept calls f on every state kept before the instructions pcs (all
// when pcs is empty), on its edges too, with frames of its own.
func eachKept(c *Containment, f func(s *state), pcs ...int) {
	for pc, ks := range c.at {
		if len(pcs) > 0 && !containsInt(pcs, pc) {
			continue
		}
		for _, k := range ks {
			for _, s := range []*state{k.s, k.fall, k.taken} {
				if s != nil {
					for i := range s.frames {
						s.frames[i] = s.frames[i].clone()
					}
					f(s)
				}
			}
		}
	}
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// mapMark is the immediate of an lddw the tests below turn into a load of
// map 0 (the assembler has no syntax for it).
const mapMark = 0x4d4150

// TestContainmentMoreViolations checks that the containment checks of held
// records and locks, initialised stack bytes, uninitialised register reads
// and loop trip counts report a run outside a deliberately broken
// abstract state, and that each program is contained when nothing is
// broken.
func TestContainmentMoreViolations(t *testing.T) {
	ringbuf := []MapInfo{{Name: "rb", Type: linux.MapRingBuf, MaxEntries: 4096}}
	locked := []MapInfo{{Name: "locked", Type: linux.MapArray, KeySize: 4, ValueSize: 16, MaxEntries: 1, HasSpinLock: true}}
	cases := []struct {
		name   string
		src    string
		maps   []MapInfo
		broken func(c *Containment)
		want   string
	}{{
		// The state after the reserve forgets the reference.
		name: "record not held",
		src: `
			lddw r1, 0x4d4150
			mov r2, 8
			mov r3, 0
			call 131
			jeq r0, 0, out
			stdw [r0+0], 7
			mov r1, r0
			mov r2, 0
			call 132
		out:
			mov r0, 0
			exit`,
		maps:   ringbuf,
		broken: func(c *Containment) { eachKept(c, func(s *state) { s.refs = nil }, 5, 6, 7, 8) },
		want:   "the run holds the ring buffer record",
	}, {
		// The record pointer names another reserve call.
		name: "another record",
		src: `
			lddw r1, 0x4d4150
			mov r2, 8
			mov r3, 0
			call 131
			jeq r0, 0, out
			stdw [r0+0], 7
			mov r1, r0
			mov r2, 0
			call 132
		out:
			mov r0, 0
			exit`,
		maps: ringbuf,
		broken: func(c *Containment) {
			eachKept(c, func(s *state) {
				for r := range s.regs {
					if s.regs[r].kind == kRingbuf {
						s.regs[r].id++
					}
				}
			}, 6, 7)
		},
		want: "but the run holds no record reserved at insn 5",
	}, {
		// The state inside the critical section forgets the lock.
		name: "lock not held",
		src: `
			stw [r10-4], 0
			mov r2, r10
			add r2, -4
			lddw r1, 0x4d4150
			call 1
			jeq r0, 0, out
			mov r6, r0
			mov r1, r6
			call 93
			stdw [r6+8], 1
			mov r1, r6
			call 94
		out:
			mov r0, 0
			exit`,
		maps:   locked,
		broken: func(c *Containment) { eachKept(c, func(s *state) { s.lock = false }, 10) },
		want:   "which the verifier believes not held",
	}, {
		// The state after the unlock still holds the lock.
		name: "lock still held",
		src: `
			stw [r10-4], 0
			mov r2, r10
			add r2, -4
			lddw r1, 0x4d4150
			call 1
			jeq r0, 0, out
			mov r6, r0
			mov r1, r6
			call 93
			mov r1, r6
			call 94
			mov r0, 0
			exit
		out:
			mov r0, 0
			exit`,
		maps: locked,
		broken: func(c *Containment) {
			eachKept(c, func(s *state) { s.lock, s.lockOf = true, lockOwner{region: 0, id: 5} }, 13)
		},
		want: "the run holds no bpf_spin_lock",
	}, {
		// The state believes r10-16 written; only r10-8 is.
		name: "stack byte",
		src: `
			stdw [r10-8], 1
			ldxdw r0, [r10-8]
			mov r0, 0
			exit`,
		broken: func(c *Containment) {
			eachKept(c, func(s *state) { s.frames[0].init.setRange(frameSize-16, frameSize-8, true) }, 1)
		},
		want: "frame 0 byte r10-16 was never written",
	}, {
		// The state believes r2 uninitialised where the run reads it.
		name: "uninitialised read",
		src: `
			mov r0, 0
			mov r2, 1
			add r0, r2
			exit`,
		broken: func(c *Containment) { eachKept(c, func(s *state) { s.setUninit(2) }, 2) },
		want:   "insn 2 reads r2, which the verifier believes uninitialised",
	}, {
		// The state bounds the loop's trips by 2; it runs 9.
		name: "loop trips",
		src: `
			mov r1, 0
		loop:
			add r1, 1
			jlt r1, 10, loop
			mov r0, 0
			exit`,
		broken: func(c *Containment) {
			eachKept(c, func(s *state) { s.z.setBounds(locCounter(0, 1), 0, 2) }, 1)
		},
		want: "loop1=3 above its bound 2",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prog, err := isa.Assemble(c.src)
			if err != nil {
				t.Fatal(err)
			}
			for i := range prog {
				if prog[i].IsLoadImm64() && prog[i].Imm == mapMark {
					prog[i].Src, prog[i].Imm = isa.PseudoMapIdx, 0
				}
			}
			// Honest: contained on every run.
			for seed := uint64(0); seed < 8; seed++ {
				h := &harness{t: t, info: xdpInfo(t), rng: rand.New(rand.NewPCG(seed, 2))}
				if v := h.try(prog, c.maps); v != nil {
					t.Fatalf("honest verification: %v", v.err)
				}
				if h.accepted != 1 {
					t.Fatalf("the program is rejected")
				}
			}
			// Broken: some run leaves the state.
			var got error
			for seed := uint64(0); seed < 8 && got == nil; seed++ {
				h := &harness{t: t, info: xdpInfo(t), rng: rand.New(rand.NewPCG(seed, 2)), broken: c.broken}
				if v := h.try(prog, c.maps); v != nil {
					got = v.err
				}
			}
			var cv *Violation
			if got == nil || !errors.As(got, &cv) || !strings.Contains(got.Error(), c.want) {
				t.Fatalf("got %v, want a containment violation containing %q", got, c.want)
			}
		})
	}
}

// TestContainmentBudget checks that a verification whose kept states
// exceed Containment.MaxBytes fails with a limit error, and that the
// default budget keeps them.
func TestContainmentBudget(t *testing.T) {
	prog, err := isa.Assemble(`
		mov r1, 0
	loop:
		add r1, 1
		jlt r1, 10, loop
		mov r0, 0
		exit`)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Type: xdpInfo(t), ABI: linux.ABI(), Containment: &Containment{MaxBytes: 64}}
	_, err = Verify(prog, opts)
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != "containment state memory" || le.Option != "Containment.MaxBytes" {
		t.Fatalf("got %v, want the containment state memory limit", err)
	}
	opts.Containment = &Containment{}
	if _, err := Verify(prog, opts); err != nil {
		t.Fatal(err)
	}
	if c := opts.Containment; c.Bytes <= 0 || c.States == 0 {
		t.Fatalf("kept %d states of %d bytes", c.States, c.Bytes)
	}
}

// TestContainmentUninitCopy checks that a whole copy of an uninitialised
// register, which the analysis accepts (the copy is uninitialised too), is
// no read for the containment check.
func TestContainmentUninitCopy(t *testing.T) {
	prog, err := isa.Assemble(`
		mov r8, r0
		mov r0, 0
		exit`)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, info: xdpInfo(t), rng: rand.New(rand.NewPCG(1, 2))}
	if v := h.try(prog, nil); v != nil {
		t.Fatal(v.err)
	}
	if h.accepted != 1 {
		t.Fatal("the program is rejected")
	}
}
