package bpfhost

import (
	"errors"
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
)

// TestKernelConfigKernel loads every program of oracle.o into the running
// kernel (cilium/ebpf fills .kconfig from the running kernel and relocates
// CO-RE against its BTF, as libbpf would) and verifies it with bpfhost with
// the default options, which take the same values and BTF: the verdicts
// must agree, and be the expected ones (every kernel with BPF has
// CONFIG_BPF=y and CONFIG_BPF_SYSCALL=y and is 4.0 or later). It needs root
// and the kernel's BTF.
func TestKernelConfigKernel(t *testing.T) {
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here, no kernel to compare with: %v", err)
	}
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skipf("no kernel BTF: %v", err)
	}
	want := map[string]bool{ // accepted?
		"core_missing": false, "core_guarded": true,
		"old_kernels_only": false, "without_bpf": true, "with_bpf_syscall": false,
	}
	kspec, err := ebpf.LoadCollectionSpec(kconfigOracle)
	if err != nil {
		t.Fatal(err)
	}
	kernelSpec(kspec) // LINUX_KERNEL_VERSION is a __u32, which cilium/ebpf refuses
	spec, err := LoadCollectionSpec(kconfigOracle)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Programs) != len(want) {
		t.Errorf("%s has %d programs, the table %d", kconfigOracle, len(spec.Programs), len(want))
	}
	compared := 0
	for _, ps := range spec.Programs {
		one := kspec.Copy()
		for n := range one.Programs {
			if n != ps.Name {
				delete(one.Programs, n)
			}
		}
		coll, kerr := ebpf.NewCollection(one)
		if kerr == nil {
			coll.Close()
		} else if ve := (*ebpf.VerifierError)(nil); !errors.As(kerr, &ve) {
			// Every kernel with bpf() loads XDP programs: only the
			// kprobes may be out of reach.
			if ps.Section == "xdp" {
				t.Errorf("%s: the kernel cannot load it: %v", ps.Name, kerr)
			} else {
				t.Logf("%s: the kernel cannot load it here: %v", ps.Name, kerr)
			}
			continue
		}
		info, _, err := ProgramType(ps, nil)
		if err != nil {
			t.Fatal(err)
		}
		berr := VerifyProgram(spec, ps, info, nil)
		compared++
		if (kerr == nil) != (berr == nil) {
			t.Errorf("%s: kernel %v, bpfhost %v", ps.Name, firstLine(errString(kerr)), berr)
		}
		if (berr == nil) != want[ps.Name] {
			t.Errorf("%s: bpfhost %v, want accepted=%v", ps.Name, berr, want[ps.Name])
		}
	}
	t.Logf("%d of %d programs compared with the kernel", compared, len(spec.Programs))
}

func errString(err error) string {
	if err == nil {
		return "accepts"
	}
	return err.Error()
}
