package main

import (
	"strings"
	"testing"
)

// TestVerifyKernelBTF: verify --kernel-btf types the arguments of fentry,
// tp_btf, lsm and iter programs from the named BTF file; a file that cannot
// be read is an input error (exit 2) that names it.
func TestVerifyKernelBTF(t *testing.T) {
	const dir = "../../testdata/btfptr/"
	out, code := cli(t, "verify", dir+"btfptr.o", "--kernel-btf", dir+"kernel.o", "--program", "on_switch")
	if code != 0 || !strings.Contains(out, "on_switch") || !strings.Contains(out, "accepted") {
		t.Errorf("on_switch: exit %d\n%s", code, out)
	}
	out, code = cli(t, "verify", dir+"btfptr.o", "--kernel-btf", dir+"kernel.o", "--program", "bad_write")
	if code != 1 || !strings.Contains(out, "only reads are allowed") {
		t.Errorf("bad_write: exit %d\n%s", code, out)
	}
	out, code = cli(t, "verify", dir+"btfptr.o", "--kernel-btf", dir+"missing.btf", "--program", "on_switch")
	if code != 2 || !strings.Contains(out, "missing.btf") || !strings.Contains(out, "no kernel BTF") {
		t.Errorf("missing kernel BTF: exit %d\n%s", code, out)
	}
}
