package verifier_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost/internal/progen"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/verifier"
)

// kernelAtLeast reports the running kernel's release and whether it is
// major.minor or newer (false if it cannot be told).
func kernelAtLeast(major, minor int) (string, bool) {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return "unknown", false
	}
	release := unix.ByteSliceToString(u.Release[:])
	var ma, mi int
	fmt.Sscanf(release, "%d.%d", &ma, &mi)
	return release, ma > major || ma == major && mi >= minor
}

// TestKernelDifferentialPrecision is the kernel differential
// (TestKernelVerifierDifferential) on progen's precision-shape programs:
// error codes joined with results, 32-bit signed tests of wide numbers,
// values that are a pointer on one path only, stack written on some paths,
// array lookups with constant keys, strided loops, many diamonds, callees
// writing through pointers to their caller's stack. Every program the
// kernel rejects and bpfhost accepts is a finding, unless explained (the
// same categories as the hostile differential).
//
//	go test ./verifier -run TestKernelDifferentialPrecision -differential.count=20000 -differential.seed=1
func TestKernelDifferentialPrecision(t *testing.T) {
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here: %v", err)
	}
	// The programs drop the NULL check of array lookups with a zeroed key,
	// which Linux allows since 6.14 (constkey.go).
	if release, ok := kernelAtLeast(6, 14); !ok {
		t.Skipf("kernel %s: older than 6.14, which types constant-key array lookups as not NULL", release)
	}
	ms := kernelHostileMaps(t)
	n := differentialN()
	seed := *differentialSeed
	g := progen.NewPrecision(rand.New(rand.NewPCG(seed, 19)))
	info, _ := linux.Lookup("xdp")
	var d diffTally
	start := time.Now()
	for i := 0; i < n; i++ {
		p := g.Program()
		_, herr := verifier.Verify(p.Instructions, verifier.Options{Type: info, ABI: linux.ABI(), Maps: hostileMaps, MaxIterations: 50000})
		if herr != nil && !errors.Is(herr, verifier.ErrRejected) {
			t.Fatalf("program %d: bpfhost: %v\n%s", i, herr, p.Source)
		}
		kerr, log := kernelVerify(p.HostileProgram, ms)
		if kerr != nil && log == "" {
			t.Fatalf("program %d: kernel load failed without a verifier log: %v\n%s", i, kerr, p.Source)
		}
		if d.alike(kerr, herr) || d.explain(log) {
			continue
		}
		d.finding(seed, i, numbers.ReplaceAllString(kerr.Error(), "N"), p.Source)
	}
	t.Logf("precision differential, seed %d: %d programs in %v: %d accepted by both, %d rejected by both, %d accepted only by the kernel, %d new findings",
		seed, n, time.Since(start).Round(time.Millisecond), d.both, d.neither, d.kernelOnly, len(d.findings))
	d.report(t, "")
}
