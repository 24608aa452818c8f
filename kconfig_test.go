package bpfhost

import (
	"strings"
	"testing"
)

// kconfigObject holds programs whose verdicts depend on the kernel's BTF
// and kconfig values (testdata/kconfig).
const kconfigObject = "testdata/kconfig/kconfig.o"

// verifyNamed verifies the program name of kconfigObject with opts and
// returns the verifier's error.
func verifyNamed(t *testing.T, name string, opts *VerifyOptions) error {
	t.Helper()
	spec, err := LoadCollectionSpec(kconfigObject)
	if err != nil {
		t.Fatal(err)
	}
	for _, ps := range spec.Programs {
		if ps.Name != name {
			continue
		}
		info, _, err := ProgramType(ps, nil)
		if err != nil {
			t.Fatal(err)
		}
		return VerifyProgram(spec, ps, info, opts)
	}
	t.Fatalf("%s has no program %s", kconfigObject, name)
	return nil
}

// TestCOREKprobe: a kprobe's CO-RE relocations are resolved against the
// kernel BTF, as libbpf resolves every program's: a read of a member the
// kernel lacks is poisoned and refused, the same read behind
// bpf_core_field_exists is never taken. Before, kprobes kept the offsets
// clang computed and core_missing was accepted (libbpf-tools' bindsnoop
// and runqlen, which the kernel refuses on 6.x kernels).
func TestCOREKprobe(t *testing.T) {
	opts := &VerifyOptions{KernelBTF: btfKernel}
	if err := verifyNamed(t, "core_guarded", opts); err != nil {
		t.Errorf("core_guarded: %v", err)
	}
	err := verifyNamed(t, "core_missing", opts)
	if err == nil || !strings.Contains(err.Error(), "CO-RE relocation") {
		t.Errorf("core_missing: %v, want a refusal of the poisoned CO-RE read", err)
	}
}
