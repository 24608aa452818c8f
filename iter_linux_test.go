package bpfhost

import (
	"flag"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
)

// iterSlow makes TestIterKernel load never_ends in the kernel too, whose
// verifier walks its loop until the 1M-instruction limit (about 30 s, as
// cilium/ebpf loads it again for the log): "BPF program is too large".
var iterSlow = flag.Bool("iter.slow", false, "TestIterKernel: also load never_ends, which the kernel refuses after 1M instructions")

// TestIterKernel loads each program of iterShapes alone in the running
// kernel: it must give bpfhost's verdict, and the programs both accept
// must return in BPF_PROG_TEST_RUN on a 64-byte packet what TestIterShapes
// requires of bpfhost's engines.
func TestIterKernel(t *testing.T) {
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here: %v", err)
	}
	kspec, err := ebpf.LoadCollectionSpec("testdata/iter/iter.o")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range iterShapes {
		where := "iter.o " + tt.program
		if tt.program == "never_ends" && !*iterSlow {
			continue
		}
		one := onlyProgram(kspec, tt.program)
		kv, why := kernelLoadVerdict(t, where, "tc", one)
		want := "accepts"
		if tt.refuse != "" {
			want = "rejects"
		}
		switch {
		case kv == "cannot load":
			t.Logf("%s: the kernel cannot load it here: %s", where, why)
			continue
		case kv != want:
			t.Errorf("%s: kernel %s, bpfhost %s", where, kv, want)
			continue
		case kv != "accepts":
			continue
		}
		c, err := ebpf.NewCollection(one)
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.Programs[tt.program].Run(&ebpf.RunOptions{Data: make([]byte, 64)})
		c.Close()
		if err != nil {
			t.Errorf("%s: kernel test run: %v", where, err)
		} else if r != tt.want {
			t.Errorf("%s: kernel returns %d, bpfhost %d", where, int32(r), int32(tt.want))
		}
	}
}
