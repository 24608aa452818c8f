package verifier

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// TestTailSubKernel: the Linux kernel accepts exactly the programs of
// testdata/tailsub.o that TestTailSubVerdicts has bpfhost accept (those
// named *_ok), so that the rules for tail calls in subprograms are
// Linux's, not a guess.
func TestTailSubKernel(t *testing.T) {
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here: %v", err)
	}
	// The rules were checked on 6.18; packet pointers outlive a
	// tail-calling subprogram before 6.13 ("bpf: consider that tail calls
	// invalidate packet pointers").
	var u unix.Utsname
	var major, minor int
	if unix.Uname(&u) == nil {
		fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &major, &minor)
	}
	if major < 6 || major == 6 && minor < 13 {
		t.Skipf("kernel %s: older than the rules checked here (6.13)", unix.ByteSliceToString(u.Release[:]))
	}
	cs, err := ebpf.LoadCollectionSpec("testdata/tailsub.o")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.Programs) != len(tailSubVerdicts) {
		t.Fatalf("%d programs, %d verdicts listed", len(cs.Programs), len(tailSubVerdicts))
	}
	for name := range cs.Programs {
		one := cs.Copy()
		for other := range one.Programs {
			if other != name {
				delete(one.Programs, other)
			}
		}
		coll, err := ebpf.NewCollection(one)
		if err == nil {
			coll.Close()
		}
		if accept := strings.HasSuffix(name, "_ok"); accept != (err == nil) || accept != (tailSubVerdicts[name] == "") {
			t.Errorf("%s: the kernel says %v; bpfhost's listed verdict is %q", name, err, tailSubVerdicts[name])
		}
	}
}
