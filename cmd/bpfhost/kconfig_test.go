package main

import (
	"strings"
	"testing"
)

// TestVerifyKernelConfig: verify --kernel-config fills extern __kconfig
// variables from the named file, and the verdict follows the values; a file
// that cannot be read is an input error (exit 2) that names it.
func TestVerifyKernelConfig(t *testing.T) {
	const dir = "../../testdata/kconfig/"
	out, code := cli(t, "verify", dir+"kconfig.o", "--kernel-config", dir+"test.config", "--program", "by_config")
	if code != 0 || !strings.Contains(out, "accepted") {
		t.Errorf("test.config: exit %d\n%s", code, out)
	}
	out, code = cli(t, "verify", dir+"kconfig.o", "--kernel-config", dir+"empty.config", "--program", "by_config")
	if code != 1 || !strings.Contains(out, "packet") {
		t.Errorf("empty.config: exit %d\n%s", code, out)
	}
	out, code = cli(t, "verify", dir+"kconfig.o", "--kernel-config", dir+"missing.config", "--program", "by_config")
	if code != 2 || !strings.Contains(out, "missing.config") {
		t.Errorf("missing config: exit %d\n%s", code, out)
	}
}
