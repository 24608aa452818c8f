package verifier

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// The shapes of the security findings F2, F3 and F8
// (../shared/security/resources), generated at sizes a test can afford.

// nestedLoops is F2: n nested loops sharing one counter, 2n+3 slots.
func nestedLoops(n int) string {
	var b strings.Builder
	b.WriteString("mov %r0, 0\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "l%d:\nadd %%r0, 1\n", i)
	}
	for i := n - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "jlt %%r0, 5, l%d\n", i)
	}
	b.WriteString("mov %r0, 2\nexit\n")
	return b.String()
}

// branchyStack is F3: 64 stack slots live across n/2 forward branches.
func branchyStack(n int) string {
	var b strings.Builder
	b.WriteString("mov %r0, 0\n")
	for i := 1; i <= 64; i++ {
		fmt.Fprintf(&b, "mov %%r1, %d\nstxdw [%%r10-%d], %%r1\n", i, 8*i)
	}
	b.WriteString("mov %r2, %r10\nmov %r3, %r10\nadd %r3, -8\n")
	for k, slots := 0, 132; slots < n-3; k, slots = k+1, slots+2 {
		fmt.Fprintf(&b, "jeq %%r0, %d, +1\nadd %%r0, 1\n", k)
	}
	b.WriteString("mov %r0, 2\nexit\n")
	return b.String()
}

// callFanout is F8: a chain of depth functions below the entry, each
// calling the next fanout times. With vary, each call passes on what the
// previous one returned, one more than its argument, so that no two calls
// of a function start from the same state; without, every call of a
// function passes the same constant.
func callFanout(depth, fanout int, vary bool) string {
	var b strings.Builder
	b.WriteString("ldxw %r1, [%r1+12]\n") // ingress_ifindex
	for i := 1; i <= 8; i++ {
		fmt.Fprintf(&b, "stxdw [%%r10-%d], %%r1\n", 8*i)
	}
	b.WriteString("call local f1\nmov %r0, 2\nexit\n")
	for k := 1; k < depth; k++ {
		fmt.Fprintf(&b, "f%d:\nmov %%r6, %%r1\n", k)
		for i := 0; i < fanout; i++ {
			if vary {
				fmt.Fprintf(&b, "mov %%r1, %%r6\ncall local f%d\nmov %%r6, %%r0\n", k+1)
			} else {
				fmt.Fprintf(&b, "mov %%r1, 7\ncall local f%d\n", k+1)
			}
		}
		b.WriteString("mov %r0, %r6\nexit\n")
	}
	fmt.Fprintf(&b, "f%d:\nmov %%r0, %%r1\nadd %%r0, 1\nexit\n", depth)
	return b.String()
}

func verifyText(t *testing.T, src string, lim Limits) (*Result, error) {
	t.Helper()
	prog, err := isa.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	return Verify(prog, Options{Type: xdpInfo(t), ABI: linux.ABI(), Limits: untimed(lim)})
}

// testTimeout replaces the default wall-clock limit (DefaultTimeout, 10 s)
// in tests that name the limit an analysis stops at: f8_fanout_stack.o
// reaches the instruction limit in 2 s on an idle machine, so a machine
// five times slower would stop it at the time limit first. The
// deterministic limits are reached long before this one anywhere.
const testTimeout = 10 * time.Minute

// untimed is lim with testTimeout for its default time limit.
func untimed(lim Limits) Limits {
	if lim.Timeout == 0 && lim.Deadline.IsZero() {
		lim.Timeout = testTimeout
	}
	return lim
}

// limitOf returns the limit err stopped at, failing the test if it is not
// a rejection at a limit.
func limitOf(t *testing.T, err error) *LimitError {
	t.Helper()
	var le *LimitError
	if !errors.As(err, &le) || !errors.Is(err, ErrLimit) || !errors.Is(err, ErrRejected) {
		t.Fatalf("want a rejection at a limit, got %v", err)
	}
	if !strings.Contains(err.Error(), "raise "+le.Option) {
		t.Errorf("the message does not say how to raise the limit: %v", err)
	}
	return le
}

// TestStatesKeptBounded: F3's states are kept only while read, so the
// memory kept does not grow with the program, and the work grows
// linearly (it used to keep two states of 64 slots per block: 55 KB per
// instruction).
func TestStatesKeptBounded(t *testing.T) {
	var peak, work []int64
	sizes := []int{500, 1000, 2000}
	for _, n := range sizes {
		res, err := verifyText(t, branchyStack(n), Limits{})
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		t.Logf("n=%d: %d instructions processed, %d KB kept at most", n, res.Processed, res.PeakStateBytes>>10)
		peak = append(peak, res.PeakStateBytes)
		work = append(work, int64(res.Processed))
	}
	if last := peak[len(peak)-1]; last > peak[0]+peak[0]/4 {
		t.Errorf("states kept grow with the program: %v bytes for %v slots", peak, sizes)
	}
	if peak[0] > 1<<20 {
		t.Errorf("%d bytes of states kept for %d slots", peak[0], sizes[0])
	}
	for i := 1; i < len(work); i++ {
		if r := float64(work[i]) / float64(work[i-1]); r > 2.5 {
			t.Errorf("work grows faster than the program: %v for %v slots", work, sizes)
		}
	}
}

// TestNestedLoopsLimit: F2's state grows with the number of loops nested
// (a counter each); the state memory limit stops it, quickly, before it
// takes gigabytes; small nests are still accepted.
func TestNestedLoopsLimit(t *testing.T) {
	if _, err := verifyText(t, nestedLoops(8), Limits{}); err != nil {
		t.Fatalf("8 nested loops: %v", err)
	}
	start := time.Now()
	_, err := verifyText(t, nestedLoops(120), Limits{MaxStateBytes: 8 << 20})
	if le := limitOf(t, err); le.Limit != "state memory" {
		t.Errorf("stopped at %q, want the state memory limit", le.Limit)
	}
	t.Logf("120 nested loops: %v in %v", err, time.Since(start))
	// Ordering the blocks of n nested loops takes n*n/2 steps: 16000 of
	// them took 70 s and 16 GB of allocations before the order's budget.
	start = time.Now()
	_, err = verifyText(t, nestedLoops(16000), Limits{})
	if le := limitOf(t, err); le.Limit != "loop nesting" {
		t.Errorf("16000 nested loops: stopped at %q, want the loop nesting limit", le.Limit)
	}
	t.Logf("16000 nested loops: %v in %v", err, time.Since(start))
}

// TestCallFanout: F8, a chain of calls each calling the next many times.
// Calls from the same state reuse the callee's analysis, so the constant
// chain costs the number of call sites, not the number of calls (10^5);
// the varying chain is stopped by the instruction limit.
func TestCallFanout(t *testing.T) {
	res, err := verifyText(t, callFanout(6, 10, false), Limits{MaxInstructions: 50000})
	if err != nil {
		t.Fatalf("constant chain: %v", err)
	}
	if res.Processed > 2000 {
		t.Errorf("constant chain: %d instructions processed, want at most 2000", res.Processed)
	}
	t.Logf("constant chain: %d instructions processed", res.Processed)

	res, err = verifyText(t, callFanout(3, 4, true), Limits{})
	if err != nil {
		t.Fatalf("small varying chain: %v", err)
	}
	t.Logf("small varying chain: %d instructions processed", res.Processed)

	start := time.Now()
	_, err = verifyText(t, callFanout(6, 10, true), Limits{MaxInstructions: 20000})
	if le := limitOf(t, err); le.Limit != "instructions" {
		t.Errorf("stopped at %q, want the instruction limit", le.Limit)
	}
	t.Logf("varying chain: %v in %v", err, time.Since(start))
}

// TestLimits: each limit rejects, naming itself and how to raise it.
func TestLimits(t *testing.T) {
	src := branchyStack(1000)
	for _, c := range []struct {
		lim  Limits
		want string
	}{
		{Limits{MaxInstructions: 2000}, "instructions"},
		{Limits{MaxInstructions: 500}, "program size"},
		{Limits{MaxStateBytes: 10 << 10}, "state memory"},
		{Limits{Timeout: time.Nanosecond}, "time"},
	} {
		_, err := verifyText(t, src, c.lim)
		if le := limitOf(t, err); le.Limit != c.want {
			t.Errorf("%+v: stopped at %q (%v), want %q", c.lim, le.Limit, err, c.want)
		}
	}
	// A deadline past stops the analysis before it starts.
	_, err := verifyText(t, src, Limits{Deadline: time.Now().Add(-time.Second)})
	if le := limitOf(t, err); le.Limit != "deadline" {
		t.Errorf("past deadline: stopped at %q (%v)", le.Limit, err)
	}
	// A negative timeout means none.
	if _, err := verifyText(t, src, Limits{Timeout: -1}); err != nil {
		t.Errorf("no timeout: %v", err)
	}
}

// TestResourceFindings runs the verifier over the findings of
// ../shared/security/resources that are programs: each ends with a
// verdict or a limit error, F8 with the instruction limit.
func TestResourceFindings(t *testing.T) {
	dir := "../../shared/security/resources"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no %s: %v", dir, err)
	}
	for _, c := range []struct {
		file  string
		limit string // "" for a verdict or any limit
		slow  bool
	}{
		{"f2_nest400.o", "state memory", false},
		{"f3_branchy_stack16384.o", "", false},
		{"f8_fanout_stack.o", "instructions", true},
	} {
		t.Run(c.file, func(t *testing.T) {
			if c.slow && testing.Short() {
				t.Skip("takes seconds")
			}
			path := filepath.Join(dir, c.file)
			if _, err := os.Stat(path); err != nil {
				t.Skipf("no %s", path)
			}
			start := time.Now()
			errs := verifyObject(t, path)
			for name, err := range errs {
				var le *LimitError
				switch {
				case c.limit != "" && errors.As(err, &le) && le.Limit == c.limit:
				case c.limit != "":
					t.Errorf("%s: %v, want the %s limit", name, err, c.limit)
				case err != nil && !errors.Is(err, ErrRejected):
					t.Errorf("%s: %v", name, err)
				}
				t.Logf("%s: %v in %v", name, err, time.Since(start))
			}
		})
	}
}

// TestSummaryReports: a function analysed quietly while its caller's loop
// iterates, then again from the same state by the final pass, still has
// its problems reported: a summary of a quiet analysis does not stand in
// for one that reports.
func TestSummaryReports(t *testing.T) {
	src := `
mov %r6, 0
loop:
mov %r1, 0
call local f
add %r6, 1
jlt %r6, 4, loop
mov %r0, 2
exit
f:
stxdw [%r10-8], %r10
ldxw %r0, [%r10-8]
mov %r0, 0
exit
`
	_, err := verifyText(t, src, Limits{})
	if err == nil || !strings.Contains(err.Error(), "reads part of a spilled pointer") {
		t.Fatalf("got %v, want the callee's read of a spilled pointer", err)
	}
}

// TestUnkeptAnalyses: a function called from a new state every time is
// soon no longer kept as a summary, and its analyses then work on their
// entry states and hand their exits over without copies; the results are
// as precise as before: each call's constant comes back exactly, and the
// caller's stack survives every call.
func TestUnkeptAnalyses(t *testing.T) {
	var b strings.Builder
	b.WriteString("mov %r6, 5\nstxdw [%r10-8], %r6\n")
	for k := 0; k < 40; k++ {
		fmt.Fprintf(&b, "mov %%r1, %d\ncall local f\njne %%r0, %d, bad\n", k, 2*k+1)
	}
	b.WriteString("ldxdw %r0, [%r10-8]\njne %r0, 5, bad\nmov %r0, 2\nexit\n")
	b.WriteString("bad:\nldxdw %r0, [%r10-16]\nexit\n") // unreachable: an uninitialised read
	b.WriteString("f:\nmov %r0, %r1\nlsh %r0, 1\nadd %r0, 1\nexit\n")
	res, err := verifyText(t, b.String(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d instructions processed", res.Processed)
}

// TestStateAccounting: every state a run stores is given back when the
// run ends, so that at the end of an analysis only the summaries are
// counted (a leak would make long analyses hit the memory limit early).
func TestStateAccounting(t *testing.T) {
	for name, src := range map[string]string{
		"branches":   branchyStack(400),
		"loops":      nestedLoops(6),
		"calls":      callFanout(4, 5, true),
		"same calls": callFanout(4, 5, false),
		"unkept":     strings.Repeat("mov %r1, 1\ncall local f\n", 1) + "mov %r0, 2\nexit\nf:\nmov %r0, %r1\nexit\n",
		// Counting down by 3 needs proveLoop's second run of the body.
		"proved loop": "mov %r6, 100\nl:\nsub %r6, 3\njsgt %r6, 0, l\nmov %r0, 2\nexit\n",
	} {
		prog, err := isa.Assemble(src)
		if err != nil {
			t.Fatal(err)
		}
		opts := Options{Type: xdpInfo(t), ABI: linux.ABI()}
		a := newAnalyzer(prog, &opts)
		if _, err := a.verify(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if a.kept != a.summaryBytes || a.peak <= 0 {
			t.Errorf("%s: %d bytes still counted at the end, %d of them summaries (peak %d)", name, a.kept, a.summaryBytes, a.peak)
		}
	}
}

var findingSizes = flag.Bool("verifier.findings", false, "run TestFindingSizes: F2, F3 and F8 at the sizes of the security findings (tens of seconds)")

// TestFindingSizes verifies the generated shapes of F2, F3 and F8 at the
// sizes the security findings name (behind -verifier.findings): each ends
// with a verdict or a limit error, within the default limits.
//
//	go test ./verifier -run TestFindingSizes -verifier.findings -v
func TestFindingSizes(t *testing.T) {
	if !*findingSizes {
		t.Skip("-verifier.findings not set")
	}
	for _, c := range []struct {
		name string
		src  func() string
	}{
		{"F2 N=800", func() string { return nestedLoops(800) }},
		{"F2 N=1000", func() string { return nestedLoops(1000) }},
		{"F2 N=2800", func() string { return nestedLoops(2800) }},
		{"F2 N=16000", func() string { return nestedLoops(16000) }},
		{"F3 64K", func() string { return branchyStack(1 << 16) }},
		{"F3 1M", func() string { return branchyStack(1_000_000) }},
		{"F3 1M+", func() string { return branchyStack(1 << 20) }},
		{"F8 7x50", func() string { return callFanout(7, 50, true) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			prog, err := isa.Assemble(c.src())
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			res, err := Verify(prog, Options{Type: xdpInfo(t), ABI: linux.ABI()})
			var le *LimitError
			switch {
			case err == nil:
				t.Logf("%d slots: accepted, %d instructions processed, %d KB of states at most, in %v",
					len(prog), res.Processed, res.PeakStateBytes>>10, time.Since(start))
			case errors.As(err, &le):
				t.Logf("%d slots: %v, in %v", len(prog), err, time.Since(start))
			default:
				t.Errorf("%d slots: %v", len(prog), err)
			}
		})
	}
}

// TestStackChains: the combined-stack check walks every call chain of the
// call graph; a graph of 8 layers of 20 functions, each calling every
// function of the next layer, has 20^7 of them: the walk stops at the
// complexity limit instead of taking hours.
func TestStackChains(t *testing.T) {
	a := newAnalyzer([]isa.Instruction{{Opcode: isa.OpExit}}, &Options{Type: xdpInfo(t), ABI: linux.ABI()})
	const layers, width = 8, 20
	fn := func(l, i int) int { return 1 + l*width + i }
	a.calls[0] = map[int]bool{}
	for i := 0; i < width; i++ {
		a.calls[0][fn(0, i)] = true
	}
	for l := 0; l+1 < layers; l++ {
		for i := 0; i < width; i++ {
			a.calls[fn(l, i)] = map[int]bool{}
			for j := 0; j < width; j++ {
				a.calls[fn(l, i)][fn(l+1, j)] = true
			}
		}
	}
	start := time.Now()
	err := a.checkStack(&Result{})
	if le, ok := a.limitError(); err == nil || !ok || le.Limit != "call chains" {
		t.Fatalf("got %v, want the call chains limit", err)
	}
	t.Logf("%v in %v", a.limit, time.Since(start))
}

// TestManyProblems: a program with a problem on every instruction is
// rejected with the first maxErrors of them and a note, not with a
// message for each (20,000 here).
func TestManyProblems(t *testing.T) {
	src := strings.Repeat("ldxdw %r0, [%r10+8]\n", 20000) + "mov %r0, 2\nexit\n"
	_, err := verifyText(t, src, Limits{})
	var ve *VerifierError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a rejection", err)
	}
	if n := len(ve.Errors); n != maxErrors+1 || ve.Errors[0].PC != 0 || !strings.Contains(ve.Errors[n-1].Message, "stopped after") {
		t.Errorf("%d errors, first %v, last %v", n, ve.Errors[0], ve.Errors[n-1])
	}
}

// TestSummaryInsideCallback: an analysis of a function made outside any
// callback does not stand in for a call from inside one, where more is
// refused (tail calls, legacy packet loads): the same entry state is a
// different question there.
func TestSummaryInsideCallback(t *testing.T) {
	a := newAnalyzer([]isa.Instruction{{Opcode: isa.OpExit}}, &Options{Type: xdpInfo(t), ABI: linux.ABI()})
	entry := a.entryState()
	if _, err := a.remember(0, entry, entry.clone(), nil, true, callLocal, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.lookup(0, entry, true, callLocal, nil); !ok {
		t.Fatal("the same call outside callbacks finds no summary")
	}
	a.inCB++
	if _, ok := a.lookup(0, entry, true, callLocal, nil); ok {
		t.Fatal("a call inside a callback reuses the analysis made outside one")
	}
}
