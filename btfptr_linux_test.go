package bpfhost

import (
	"errors"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/rlimit"
)

// TestBTFPointerKernel loads every program of btfptr.o into the running
// kernel (cilium/ebpf resolves the attach point and relocates CO-RE
// against the kernel's BTF) and verifies it with bpfhost against the same
// kernel BTF: the verdicts must agree. It needs root and
// /sys/kernel/btf/vmlinux, and skips without them.
func TestBTFPointerKernel(t *testing.T) {
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here, no kernel to compare with: %v", err)
	}
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skipf("no kernel BTF: %v", err)
	}
	if _, err := btf.LoadKernelSpec(); err != nil {
		t.Skipf("kernel BTF: %v", err)
	}
	kspec, err := ebpf.LoadCollectionSpec(btfObject)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := LoadCollectionSpec(btfObject)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range kspec.Programs {
		names = append(names, name)
	}
	sort.Strings(names)
	agree, unloadable := 0, 0
	for _, name := range names {
		// The kernel: the program alone with the object's maps.
		one := kspec.Copy()
		for n := range one.Programs {
			if n != name {
				delete(one.Programs, n)
			}
		}
		coll, kerr := ebpf.NewCollection(one)
		if kerr == nil {
			coll.Close()
		} else {
			var ve *ebpf.VerifierError
			if !errors.As(kerr, &ve) {
				// Refused before its verifier ran: kernels without
				// ftrace (no trampolines for fentry, fexit and lsm)
				// return EPERM.
				t.Logf("%s (%s): the kernel cannot load it here: %v", name, kspec.Programs[name].SectionName, kerr)
				unloadable++
				continue
			}
		}
		// bpfhost, against the running kernel's BTF.
		var ps *ProgramSpec
		for _, p := range spec.Programs {
			if p.Name == name {
				ps = p
			}
		}
		info, _, err := ProgramType(ps, nil)
		if err != nil {
			t.Fatal(err)
		}
		berr := VerifyProgram(spec, ps, info, nil)
		var bve *VerifierError
		if berr != nil && !errors.As(berr, &bve) {
			t.Errorf("%s: bpfhost did not verify it: %v", name, berr)
			continue
		}
		if (kerr == nil) != (berr == nil) {
			t.Errorf("%s (%s): kernel %s, bpfhost %s", name, ps.Section, verdict(kerr), verdict(berr))
			continue
		}
		if (berr == nil) != (btfVerdicts[name] == "") {
			t.Errorf("%s: both %s, the test table says otherwise", name, verdict(berr))
		}
		agree++
	}
	t.Logf("%d of %d programs: the same verdict as the kernel; %d the kernel cannot load here", agree, len(names), unloadable)
	if agree == 0 {
		t.Skip("no program could be compared with the kernel")
	}
}

func verdict(err error) string {
	if err == nil {
		return "accepts"
	}
	msg := err.Error()
	if i := strings.Index(msg, "\n"); i >= 0 {
		msg = msg[:i]
	}
	return "rejects (" + msg + ")"
}
