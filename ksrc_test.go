package bpfhost

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ksrcShapes are the patterns of testdata/ksrc, each with the verdict
// Linux gives (TestKernelSourceShapesKernel checks it against the running
// kernel): refuse is a part of bpfhost's message for a program Linux
// refuses, "" for one it accepts.
var ksrcShapes = []struct {
	object, program, refuse string
}{
	{"license_gpl.o", "btf_read", ""},
	{"license_gpl.o", "gpl_helper", ""},
	{"license_gpl.o", "any_helper", ""},
	{"license_other.o", "btf_read", "license is not GPL-compatible"},
	{"license_other.o", "gpl_helper", "GPL-only helper bpf_probe_read_kernel"},
	{"license_other.o", "any_helper", ""},
	{"kconfig.o", "syscall_wrapper", ""},
	{"timercb.o", "good_timer", ""},
	{"timercb.o", "bad_timer_read", "outside the 24-byte map timers value"},
	{"timercb.o", "bad_timer_stack", "combined stack of 576 bytes"},
	{"timercb.o", "bad_kprobe_timer_map", "holds a bpf_timer, which kprobe programs may not use"},
	{"timercb.o", "bad_socket_lock_map", "holds a bpf_spin_lock, which socket_filter programs may not use"},
	{"timercb.o", "tc_lock_map", ""},
	{"mapflags.o", "write_only_store", ""},
	{"mapflags.o", "bad_write_only_load", "which programs may only write"},
	{"mapflags.o", "bad_write_only_helper", "bpf_skb_store_bytes would read map wronly"},
	{"sleep.o", "sleepable_copy", ""},
	{"sleep.o", "bad_copy_not_sleepable", "only sleepable programs"},
	{"uninit.o", "load_entry", ""},
	{"uninit.o", "load_subprog", ""},
	{"uninit.o", "helper_subprog", ""},
	{"uninit.o", "load_var_off", ""},
	{"conststr.o", "strncmp_terminated", ""},
	{"conststr.o", "bad_strncmp_unterminated", "is not NUL-terminated"},
	{"retval.o", "bad_retval_egress", "bpf_get_retval"},
	{"retval.o", "bad_retval_ingress", "bpf_get_retval"},
	{"retval.o", "retval_device", ""},
}

// TestKernelSourceShapes verifies the programs of ksrcShapes. Before, a
// program whose license is not GPL-compatible could call GPL-only helpers
// and read kernel objects through BTF pointers (samples/bpf's
// xdp_sample.bpf.o, which Linux refuses), and an extern bool given a
// number (LINUX_HAS_SYSCALL_WRAPPER, which every BPF_KSYSCALL program
// declares) could not be filled: "a bool takes y or n"; and the callback
// bpf_timer_set_callback was given was never verified (the helper has no
// map argument, and the callback's map came from that only); and tracing
// programs could use maps with timers and spin locks, socket filters maps
// with spin locks; and programs could read the values of a map created
// with BPF_F_WRONLY_PROG; and programs that are not sleepable could call
// helpers that may sleep (bpf_copy_from_user); and loads of unwritten
// stack bytes, and helpers' reads of unwritten bytes of subprograms'
// frames, were refused (Linux allows privileged loaders both); and
// bpf_strncmp's constant string needed only its first byte in read-only
// data, not a NUL before the value's end (strncmp_test.c's "?" program
// strncmp_bad_not_null_term_target, measured once "?" sections were); and
// cgroup_skb programs could call bpf_get_retval and bpf_set_retval
// (cgroup_getset_retval_hooks.c's "?" programs).
func TestKernelSourceShapes(t *testing.T) {
	for _, tt := range ksrcShapes {
		err := verifyNamed(t, "testdata/ksrc/"+tt.object, tt.program, &VerifyOptions{KernelBTF: btfKernel})
		switch {
		case tt.refuse == "" && err != nil:
			t.Errorf("%s %s: %v, want accepted", tt.object, tt.program, err)
		case tt.refuse != "" && (err == nil || !strings.Contains(err.Error(), tt.refuse)):
			t.Errorf("%s %s: %v, want an error saying %q", tt.object, tt.program, err, tt.refuse)
		}
	}
}

// TestKconfigBoolNumber: a configuration file may give an extern bool 0 or
// 1 (libbpf's rule for numbers), and the program reads it.
func TestKconfigBoolNumber(t *testing.T) {
	for _, v := range []string{"0", "1", "y", "n"} {
		path := filepath.Join(t.TempDir(), "config")
		if err := os.WriteFile(path, []byte("LINUX_HAS_SYSCALL_WRAPPER="+v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := verifyNamed(t, "testdata/ksrc/kconfig.o", "syscall_wrapper", &VerifyOptions{KernelConfig: path}); err != nil {
			t.Errorf("LINUX_HAS_SYSCALL_WRAPPER=%s: %v", v, err)
		}
	}
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte("LINUX_HAS_SYSCALL_WRAPPER=2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := verifyNamed(t, "testdata/ksrc/kconfig.o", "syscall_wrapper", &VerifyOptions{KernelConfig: path}); err == nil {
		t.Error("LINUX_HAS_SYSCALL_WRAPPER=2: accepted, want an error")
	}
}
