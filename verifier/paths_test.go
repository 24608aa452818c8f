package verifier

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// pathsProgram builds a program that puts a different kind of value in r7
// on each of n paths (n <= 5), chosen by r6, and then uses r7 as what it is
// under a second test of r6: safe on every path, but only if the paths are
// kept apart.
func pathsProgram(n int) string {
	kinds := []struct{ set, use string }{
		{"mov %r7, %r1", "ldxw %r0, [%r7+12]\nexit"},               // context
		{"mov %r7, %r10\nadd %r7, -8", "ldxdw %r0, [%r7+0]\nexit"}, // stack
		{"mov %r7, %r2", "ldxb %r0, [%r7+0]\nexit"},                // packet
		{"mov %r7, 3", "mov %r0, %r7\nexit"},                       // number
		{"mov %r7, %r3", "jgt %r2, %r7, out\nmov %r0, 2\nexit"},    // packet end
	}
	var b strings.Builder
	b.WriteString(`
		stdw [%r10-8], 0
		mov %r8, %r1
		call 7
		mov %r1, %r8
		mov %r6, %r0
		and %r6, 7
		ldxw %r2, [%r1+0]
		ldxw %r3, [%r1+4]
		mov %r4, %r2
		add %r4, 8
		jgt %r4, %r3, out
	`)
	for i := 0; i < n-1; i++ {
		fmt.Fprintf(&b, "jeq %%r6, %d, set%d\n", i, i)
	}
	fmt.Fprintf(&b, "ja set%d\n", n-1)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "set%d:\n%s\nja joined\n", i, kinds[i].set)
	}
	b.WriteString("joined:\nldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 8\njgt %r4, %r3, out\n")
	for i := 0; i < n-1; i++ {
		fmt.Fprintf(&b, "jeq %%r6, %d, use%d\n", i, i)
	}
	fmt.Fprintf(&b, "ja use%d\n", n-1)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "use%d:\n%s\n", i, kinds[i].use)
	}
	b.WriteString("out:\nmov %r0, 1\nexit\n")
	return b.String()
}

// TestPathsKeptApart: a register that holds a different kind of value on
// each path is used on each as what it is there, after a second test of the
// value that chose the path. Up to the limit of paths kept apart (4 here,
// maxDisjuncts in use) the program is accepted; with one path more, two
// are joined and the use of the joined register is refused (the fallback
// is the join, which is sound); with every path joined, the first use is
// refused.
func TestPathsKeptApart(t *testing.T) {
	tests := []struct {
		paths, limit int
		reject       string
	}{
		{2, 0, ""},
		{5, 0, ""},
		{2, 4, ""},
		{4, 4, ""},
		{5, 4, "different kinds"},
		{2, 1, "different kinds"},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%d paths, %d kept apart", tt.paths, tt.limit)
		prog, err := isa.Assemble(pathsProgram(tt.paths))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_, err = Verify(prog, Options{Type: xdpInfo(t), ABI: linux.ABI(), test: &testHooks{sink: -1, paths: tt.limit}})
		checkVerdict(t, name, err, tt.reject)
	}
}

// TestPathsDeadRegisterJoins: a register that differs in kind only while it
// is dead does not keep the paths apart: the block after the join is
// processed once per path only where something live differs.
func TestPathsDeadRegisterJoins(t *testing.T) {
	const prog = `
		mov %r6, %r1
		call 7
		mov %r7, %r10
		jeq %r0, 0, joined
		mov %r7, 5
	joined:
		mov %r7, 0
		mov %r0, 2
		exit
	`
	for _, tt := range []struct {
		src   string
		iters int
	}{
		{prog, 3},
		// r7 is read after the join: two passes over that block.
		{strings.Replace(prog, "mov %r7, 0", "stxdw [%r10-8], %r7\nmov %r7, 0", 1), 4},
	} {
		p, err := isa.Assemble(tt.src)
		if err != nil {
			t.Fatal(err)
		}
		// Paths kept apart from the start (not joined first: verifyPaths).
		res, err := Verify(p, Options{Type: xdpInfo(t), ABI: linux.ABI(), test: &testHooks{sink: -1, paths: maxDisjuncts}})
		if err != nil {
			t.Fatalf("%v:\n%s", err, tt.src)
		}
		if res.Iterations != tt.iters {
			t.Errorf("%d block passes, want %d:\n%s", res.Iterations, tt.iters, tt.src)
		}
	}
}

// checkVerdict reports a verdict that is not the one wanted: acceptance
// when reject is empty, else a rejection whose message mentions reject.
func checkVerdict(t *testing.T, name string, err error, reject string) {
	t.Helper()
	switch {
	case reject == "" && err != nil:
		t.Errorf("%s: rejected: %v", name, err)
	case reject != "" && err == nil:
		t.Errorf("%s: accepted, want a rejection mentioning %q", name, reject)
	case reject != "" && !strings.Contains(err.Error(), reject):
		t.Errorf("%s: %v, want a message mentioning %q", name, err, reject)
	}
}

// TestPathsBounded: a program whose every join could keep its paths apart
// (200 diamonds, each leaving a map value or NULL in a stack slot that is
// read at the end: 2^200 paths) costs at most maxDisjuncts passes over each
// of its blocks.
func TestPathsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("stw [%r10-512], 0\nlddw %r1, 0\nmov %r2, %r10\nadd %r2, -512\ncall 1\njne %r0, 0, found\nexit\nfound:\nmov %r6, %r0\n")
	const diamonds = 200
	for i := 0; i < diamonds; i++ {
		fmt.Fprintf(&b, "call 7\njeq %%r0, 0, num%d\nmov %%r7, %%r6\nja join%d\nnum%d:\nmov %%r7, 0\njoin%d:\nstxdw [%%r10-%d], %%r7\n", i, i, i, i, 8*(i%60+1))
	}
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&b, "ldxdw %%r1, [%%r10-%d]\n", 8*(i+1))
	}
	b.WriteString("mov %r0, 2\nexit\n")
	p := assembleMaps(t, b.String())
	maps := []MapInfo{{Name: "arr", Type: linux.MapArray, KeySize: 4, ValueSize: 8, MaxEntries: 4}}
	// Paths kept apart from the start (the join, tried first by default,
	// accepts this program).
	res, err := Verify(p, Options{Type: xdpInfo(t), ABI: linux.ABI(), Maps: maps, test: &testHooks{sink: -1, paths: maxDisjuncts}})
	if err != nil {
		t.Fatal(err)
	}
	if lim := maxDisjuncts * (4*diamonds + 3); res.Iterations > lim {
		t.Errorf("%d block passes, want at most %d", res.Iterations, lim)
	}
	t.Logf("%d instructions, %d processed, %d block passes, %v", len(p), res.Processed, res.Iterations, res.Duration)
}

// TestPathsJoinFirst: Verify joins every path first and keeps paths apart
// only for a program the join rejects. A program the join accepts is
// analysed once, joined (3 block passes where keeping r7's two kinds apart
// takes 4); one that needs its paths apart is accepted after both
// analyses, and their work is counted; an unsafe one gets the messages of
// the analysis with paths apart.
func TestPathsJoinFirst(t *testing.T) {
	const joinable = `
		mov %r6, %r1
		call 7
		mov %r7, %r10
		jeq %r0, 0, joined
		mov %r7, 5
	joined:
		stxdw [%r10-8], %r7
		mov %r7, 0
		mov %r0, 2
		exit
	`
	p, err := isa.Assemble(joinable)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(p, Options{Type: xdpInfo(t), ABI: linux.ABI()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Iterations != 3 {
		t.Errorf("%d block passes, want 3 (every path joined)", res.Iterations)
	}

	p, err = isa.Assemble(pathsProgram(2))
	if err != nil {
		t.Fatal(err)
	}
	apart, err := Verify(p, Options{Type: xdpInfo(t), ABI: linux.ABI(), test: &testHooks{sink: -1, paths: maxDisjuncts}})
	if err != nil {
		t.Fatalf("paths kept apart: %v", err)
	}
	_, err = Verify(p, Options{Type: xdpInfo(t), ABI: linux.ABI(), test: &testHooks{sink: -1, paths: 1}})
	checkVerdict(t, "joined", err, "different kinds")
	res, err = Verify(p, Options{Type: xdpInfo(t), ABI: linux.ABI()})
	if err != nil {
		t.Fatalf("joined first: %v", err)
	}
	if res.Iterations <= apart.Iterations || res.Processed <= apart.Processed {
		t.Errorf("joined first: %d block passes and %d instructions, want more than the %d and %d of the analysis with paths apart alone",
			res.Iterations, res.Processed, apart.Iterations, apart.Processed)
	}

	p, err = isa.Assemble(`
		mov %r6, %r1
		stdw [%r10-8], 0
		call 7
		mov %r7, %r10
		add %r7, -8
		jeq %r0, 0, joined
		mov %r7, 5
	joined:
		ldxdw %r0, [%r7+0]
		mov %r0, 2
		exit
	`)
	if err != nil {
		t.Fatal(err)
	}
	_, want := Verify(p, Options{Type: xdpInfo(t), ABI: linux.ABI(), test: &testHooks{sink: -1, paths: maxDisjuncts}})
	_, got := Verify(p, Options{Type: xdpInfo(t), ABI: linux.ABI()})
	if want == nil || got == nil || got.Error() != want.Error() {
		t.Errorf("joined first: %v, want the rejection of the analysis with paths apart: %v", got, want)
	}
}
