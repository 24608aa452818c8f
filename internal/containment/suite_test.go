package containment

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/verifier"
)

// randomInputs is how many random inputs every accepted program runs on
// beside its own.
var randomInputs = flag.Int("containment.inputs", 4, "random inputs per accepted program, beside its given one")

// suite checks the programs of one suite and counts what the verifier and
// the runs did.
type suite struct {
	t   *testing.T
	rng *rand.Rand
	// Counts.
	programs, accepted, rejected, runs, steps, budget, results int
	// reasons counts the rejections by the verifier's message, with the
	// instruction and the values taken out.
	reasons map[string]int
}

func newSuite(t *testing.T, seed uint64) *suite {
	return &suite{t: t, rng: rand.New(rand.NewPCG(seed, 31)), reasons: map[string]int{}}
}

// check verifies p and, if accepted, runs it on input and on random
// inputs, every step contained; want, if not nil, is the r0 a run on
// input must return. It reports whether the verifier accepted p.
func (s *suite) check(p Program, input []byte, want *uint64) bool {
	s.t.Helper()
	s.programs++
	c, err := Verify(p)
	if err != nil {
		if !errors.Is(err, verifier.ErrRejected) && !errors.Is(err, verifier.ErrLimit) {
			s.t.Errorf("%s: %v", p.Name, err)
			return false
		}
		s.rejected++
		s.reasons[reason(err)]++
		return false
	}
	defer c.Close()
	s.accepted++
	inputs := [][]byte{input}
	for i := 0; i < *randomInputs; i++ {
		in := make([]byte, s.rng.IntN(2*len(input)+16))
		for j := range in {
			in[j] = byte(s.rng.Uint32())
		}
		inputs = append(inputs, in)
	}
	for i, in := range inputs {
		run, err := c.Run(in, 1<<24)
		s.runs++
		s.steps += run.Steps
		if err != nil {
			s.t.Errorf("%v\n%s", err, isa.Disassemble(p.Insns))
			return true
		}
		if run.Err != nil {
			s.budget++
			continue
		}
		if i == 0 && want != nil {
			if run.R0 != *want {
				s.t.Errorf("%s: r0 = %#x under containment, want %#x", p.Name, run.R0, *want)
				continue
			}
			s.results++
		}
	}
	return true
}

// reason returns the kind of a rejection: the verifier's message without
// its position and numbers.
func reason(err error) string {
	var ve *verifier.VerifierError
	msg := err.Error()
	if errors.As(err, &ve) && len(ve.Errors) > 0 {
		msg = ve.Errors[0].Message
	}
	msg, _, _ = strings.Cut(msg, ";") // the values that follow differ
	var b strings.Builder
	digits := false
	for _, r := range msg {
		if r >= '0' && r <= '9' {
			if !digits {
				b.WriteByte('N')
			}
			digits = true
			continue
		}
		digits = false
		b.WriteRune(r)
	}
	return b.String()
}

// report logs the counts, the most common rejections first, and fails the test when fewer than
// minAccepted programs were accepted: a verifier that starts rejecting
// programs it accepted shows as a failure, not as a smaller count in the
// log.
func (s *suite) report(name string, minAccepted int) {
	s.t.Helper()
	type kv struct {
		k string
		n int
	}
	var rs []kv
	for k, n := range s.reasons {
		rs = append(rs, kv{k, n})
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].n > rs[j].n || rs[i].n == rs[j].n && rs[i].k < rs[j].k })
	var b strings.Builder
	for i, r := range rs {
		if i == 6 {
			fmt.Fprintf(&b, "\n\t(%d more kinds)", len(rs)-i)
			break
		}
		fmt.Fprintf(&b, "\n\t%4d %s", r.n, r.k)
	}
	s.t.Logf("%s: %d programs: %d accepted by the verifier and contained in %d runs (%d instructions checked, %d runs stopped by their budget, %d results as expected), %d rejected:%s",
		name, s.programs, s.accepted, s.runs, s.steps, s.budget, s.results, s.rejected, b.String())
	if s.accepted < max(minAccepted, 1) {
		s.t.Errorf("%s: %d programs accepted, fewer than the %d accepted before: a regression of the verifier (or of the suite)", name, s.accepted, minAccepted)
	}
}
