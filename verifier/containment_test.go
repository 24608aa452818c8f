package verifier

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/internal/oracle"
	"github.com/bpfhost/bpfhost/isa"
)

// concrete describes the state of a traced run for the containment check;
// t, if not nil, has followed the run up to this step.
func concrete(m *oracle.Memory, t *oracle.Tracker, regs *[11]uint64) *Concrete {
	cs := &Concrete{
		Regs: *regs, Depth: m.RC.Depth,
		FramePointer: m.FramePointer, Load: m.Load,
		Context: m.Context, Packet: m.Packet, Meta: m.Meta, Data: m.Data, End: m.End,
		Element: m.Element, Elements: m.Elements, MapHandle: m.MapHandle,
	}
	if m.LeakCheck {
		cs.Owned = m.Owns
	}
	if t != nil {
		cs.Written = t.Written
		cs.Held = &Held{Lock: t.Lock()}
		for _, r := range t.Records() {
			cs.Held.Records = append(cs.Held.Records, HeldRecord{Start: r.Start, Site: r.Site, Depth: r.Depth})
		}
	}
	return cs
}

// TestContainmentViolations checks that the oracle reports states outside
// the verifier's, with test hooks that make the verifier wrong on purpose.
func TestContainmentViolations(t *testing.T) {
	prog, err := isa.Assemble(`
		mov r0, 0
		ldxw r2, [r1+0]
		ldxw r3, [r1+4]
		jgt r3, r2, out
		exit
	out:
		exit
	`)
	if err != nil {
		t.Fatal(err)
	}
	trivial, err := isa.Assemble("mov r0, 0\nexit")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		hooks *testHooks
		want  string
		prog  []isa.Instruction // nil: prog
	}{
		// The taken edge vanishes: a branch judged impossible, taken.
		{"impossible edge", &testHooks{sink: 5}, "insn 3: the branch was taken (to insn 5), which the verifier judged impossible", nil},
		// The entry state claims r4 = 5; the run starts with r4 = 0.
		{"wrong number", &testHooks{sink: -1, pre: func(s *state, a *analyzer) {
			s.set(4, value{kind: kScalar}, constIval(5))
		}}, "insn 0: r4=0x0: scalar outside 5", nil},
		// The entry state claims that r1 points 8 bytes into the context.
		{"wrong offset", &testHooks{sink: -1, pre: func(s *state, a *analyzer) {
			s.set(1, value{kind: kCtx}, constIval(8))
		}}, "insn 0: r1=0 below its bound 8", trivial},
		// The entry state claims that r6 points into the context.
		{"NULL", &testHooks{sink: -1, pre: func(s *state, a *analyzer) {
			s.set(6, value{kind: kCtx}, constIval(0))
		}}, "insn 0: r6=0x0: NULL where the verifier has ctx (not NULL)", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := &harness{t: t, info: xdpInfo(t), rng: rand.New(rand.NewPCG(1, 2)), hooks: c.hooks}
			p := prog
			if c.prog != nil {
				p = c.prog
			}
			v := h.try(p, nil)
			if v == nil {
				t.Fatalf("no violation reported")
			}
			var cv *Violation
			if !errors.As(v.err, &cv) || !strings.Contains(v.err.Error(), c.want) {
				t.Fatalf("got %v, want a containment violation containing %q", v.err, c.want)
			}
		})
	}
	// Without hooks the program is contained.
	h := &harness{t: t, info: xdpInfo(t), rng: rand.New(rand.NewPCG(1, 2))}
	if v := h.try(prog, nil); v != nil {
		t.Fatalf("honest verification: %v", v.err)
	}
}
