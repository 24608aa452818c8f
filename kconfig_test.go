package bpfhost

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/object"
)

// The objects of testdata/kconfig: kconfigObject's programs' verdicts
// depend on the kconfig values; kconfigOracle's on the kernel's BTF and
// values too, and the running kernel can load them (TestKernelConfigKernel).
const (
	kconfigObject = "testdata/kconfig/kconfig.o"
	kconfigOracle = "testdata/kconfig/oracle.o"
)

// verifyNamed verifies the program name of the object at path with opts
// and returns the verifier's error.
func verifyNamed(t *testing.T, path, name string, opts *VerifyOptions) error {
	t.Helper()
	spec, err := LoadCollectionSpec(path)
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
	t.Fatalf("%s has no program %s", path, name)
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
	if err := verifyNamed(t, kconfigOracle, "core_guarded", opts); err != nil {
		t.Errorf("core_guarded: %v", err)
	}
	err := verifyNamed(t, kconfigOracle, "core_missing", opts)
	if err == nil || !strings.Contains(err.Error(), "CO-RE relocation") {
		t.Errorf("core_missing: %v, want a refusal of the poisoned CO-RE read", err)
	}
}

const (
	kconfigTest  = "testdata/kconfig/test.config"  // the values the programs need
	kconfigEmpty = "testdata/kconfig/empty.config" // no values: every variable reads zero
)

// TestKernelConfigVerdicts: __kconfig values are constants the verifier
// knows, so that the path they rule out is never followed (biolatency's
// tp_btf programs read args[1] only on kernels before 5.11). Before, every
// __kconfig variable was an unknown number and each program was refused.
func TestKernelConfigVerdicts(t *testing.T) {
	for _, tc := range []struct {
		config, program, want string // want "" for accepted
	}{
		{kconfigTest, "by_version", ""},
		{kconfigTest, "by_config", ""},
		{kconfigTest, "by_tristate", ""},
		{kconfigEmpty, "by_version", "packet"},
		{kconfigEmpty, "by_config", "packet"},
		{kconfigEmpty, "by_tristate", "packet"},
	} {
		err := verifyNamed(t, kconfigObject, tc.program, &VerifyOptions{KernelConfig: tc.config})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s with %s: %v", tc.program, tc.config, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s with %s: %v, want an error about the %s", tc.program, tc.config, err, tc.want)
		}
	}
	if runtime.GOOS == "linux" {
		if _, err := os.Stat("/proc/sys/kernel/osrelease"); err == nil {
			// Every kernel that runs Go is 4.0 or later.
			if err := verifyNamed(t, kconfigObject, "by_version", nil); err != nil {
				t.Errorf("by_version with the running kernel's version: %v", err)
			}
		}
	}
}

// TestKernelConfigCollection: NewCollection fills .kconfig from the
// configuration, freezes it (the verifier relied on its bytes) and the
// program takes the path the values choose.
func TestKernelConfigCollection(t *testing.T) {
	spec, err := LoadCollectionSpec(kconfigObject)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCollection(spec, &CollectionOptions{KernelConfig: kconfigTest, Programs: []string{"by_config"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := c.Maps[".kconfig"]
	if m == nil || !m.Frozen() {
		t.Fatalf(".kconfig map %v: want a frozen map", m)
	}
	value := make([]byte, m.ValueSize())
	if err := m.Update(uint32(0), value, UpdateAny); err == nil {
		t.Error("user space updated the frozen .kconfig map")
	}
	got, err := m.LookupBytes(uint32(0))
	if err != nil {
		t.Fatal(err)
	}
	v := spec.Variable("CONFIG_BPFHOST_TEST_FEATURE")
	if n := binary.LittleEndian.Uint32(got[v.Offset:]); n != 7 {
		t.Errorf("CONFIG_BPFHOST_TEST_FEATURE reads %d, want 7", n)
	}
	v = spec.Variable("LINUX_KERNEL_VERSION")
	if n := binary.LittleEndian.Uint32(got[v.Offset:]); n != 5<<16|10<<8 {
		t.Errorf("LINUX_KERNEL_VERSION reads %#x, want 0x50a00", n)
	}
	ret, err := c.Programs["by_config"].Run(&RunOptions{Data: make([]byte, 64)})
	if err != nil || ret != 2 {
		t.Errorf("by_config: %d, %v; want XDP_PASS (2)", ret, err)
	}
	// The caller's spec is not changed.
	if ms := spec.Map(".kconfig"); ms != nil && bytes.ContainsFunc(ms.Data, func(r rune) bool { return r != 0 }) {
		t.Error("NewCollection wrote the kconfig values into the caller's spec")
	}
}

// TestParseKernelConfig: Linux's .config format, compressed or not; a line
// that is not NAME=value is an error naming it; a value that does not fit
// its variable is an error naming both.
func TestParseKernelConfig(t *testing.T) {
	text := "# comment\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=0x10\nCONFIG_D=\"str\"\n\nLINUX_KERNEL_VERSION=6.1.0\n"
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(text))
	w.Close()
	for name, in := range map[string][]byte{"plain": []byte(text), "gzip": gz.Bytes()} {
		k, err := ParseKernelConfig(bytes.NewReader(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for n, want := range map[string]string{"CONFIG_A": "y", "CONFIG_B": "n", "CONFIG_C": "0x10", "CONFIG_D": "\"str\"", "LINUX_KERNEL_VERSION": "6.1.0"} {
			if got, _ := k.Value(n); got != want {
				t.Errorf("%s: %s = %q, want %q", name, n, got, want)
			}
		}
	}
	if _, err := ParseKernelConfig(strings.NewReader("CONFIG_A=y\nnonsense\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad line: %v, want an error naming line 2", err)
	}
	for _, tc := range []struct {
		kind  object.KconfigKind
		size  uint32
		value string
		want  []byte // nil: an error
	}{
		{object.KconfigBool, 1, "y", []byte{1}},
		{object.KconfigBool, 1, "m", nil},
		{object.KconfigBool, 1, "1", []byte{1}}, // LINUX_HAS_SYSCALL_WRAPPER
		{object.KconfigBool, 1, "0", []byte{0}},
		{object.KconfigBool, 1, "2", nil},
		{object.KconfigChar, 1, "m", []byte{'m'}},
		{object.KconfigTristate, 4, "m", []byte{2, 0, 0, 0}},
		{object.KconfigInt, 4, "0x10", []byte{16, 0, 0, 0}},
		{object.KconfigInt, 1, "256", nil},
		{object.KconfigInt, 4, "y", nil},
		{object.KconfigSignedInt, 2, "-2", []byte{0xfe, 0xff}},
		{object.KconfigString, 4, "\"abcdef\"", []byte{'a', 'b', 'c', 0}},
		{object.KconfigString, 4, "abc", nil},
	} {
		data := make([]byte, tc.size)
		err := encodeKconfig(data, &object.VariableSpec{Name: "CONFIG_X", Size: tc.size, Kconfig: tc.kind}, tc.value)
		switch {
		case tc.want == nil && err == nil:
			t.Errorf("%v %q: %v, want an error", tc.kind, tc.value, data)
		case tc.want != nil && (err != nil || !bytes.Equal(data, tc.want)):
			t.Errorf("%v %q: %v, %v; want %v", tc.kind, tc.value, data, err, tc.want)
		}
	}
	for rel, want := range map[string]uint64{"6.18.44-fc-v1272": 6<<16 | 18<<8 | 44, "5.4.300": 5<<16 | 4<<8 | 255, "4.19": 4<<16 | 19<<8, "0x50a00": 0x50a00} {
		if got, err := kernelVersionCode(rel); err != nil || got != want {
			t.Errorf("kernelVersionCode(%q) = %#x, %v; want %#x", rel, got, err, want)
		}
	}
	if _, err := kernelVersionCode("linux"); err == nil {
		t.Error(`kernelVersionCode("linux"): no error`)
	}
}
