package bpfhost_test

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/bpfhost/bpfhost"
)

// TestTimerAgreesWithKernel loads each program of testdata/cli/timer.o into
// the kernel and into bpfhost's verifier: both accept bpf_timer_init on the
// value's struct bpf_timer and refuse it elsewhere in the value.
func TestTimerAgreesWithKernel(t *testing.T) {
	requireKernel(t)
	kspec, err := ebpf.LoadCollectionSpec("testdata/cli/timer.o")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := bpfhost.LoadCollectionSpec("testdata/cli/timer.o")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tc_timer_init", "tc_timer_wrong", "tc_count"} {
		one := &ebpf.CollectionSpec{Maps: kspec.Maps, Programs: map[string]*ebpf.ProgramSpec{name: kspec.Programs[name]}}
		coll, kerr := ebpf.NewCollection(one)
		if kerr == nil {
			coll.Close()
		}
		var kve *ebpf.VerifierError
		if kerr != nil && !errors.As(kerr, &kve) {
			t.Fatalf("%s: kernel: %v", name, kerr)
		}
		ps := spec.Program(name)
		info, _, err := bpfhost.ProgramType(ps, nil)
		if err != nil {
			t.Fatal(err)
		}
		herr := bpfhost.VerifyProgram(spec, ps, info, nil)
		t.Logf("%s: refused by the kernel %v, by bpfhost %v", name, kerr != nil, herr != nil)
		if (kerr == nil) != (herr == nil) {
			t.Errorf("%s: kernel %v; bpfhost %v", name, kerr, herr)
		}
	}
}
