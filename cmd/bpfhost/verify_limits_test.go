package main

import (
	"strings"
	"testing"
)

// TestVerifyLimitFlags: the verifier's limits are set with flags, and a
// program stopped by one is rejected with a message naming the flag that
// raises it.
func TestVerifyLimitFlags(t *testing.T) {
	for _, c := range []struct {
		flag, value, want string
	}{
		{"--max-insns", "100", "raise --max-insns"},
		{"--verify-timeout", "1ns", "raise --verify-timeout"},
	} {
		out, code := cli(t, "verify", examples+"firewall.o", c.flag, c.value)
		if code != 1 || !strings.Contains(out, c.want) || !strings.Contains(out, "verification limit reached") {
			t.Errorf("%s %s: exit %d, want 1 and %q\n%s", c.flag, c.value, code, c.want, out)
		}
	}
	if out, code := cli(t, "verify", examples+"firewall.o", "--max-insns", "5000", "--max-state-mem", "64"); code != 0 {
		t.Errorf("limits above what the program needs: exit %d\n%s", code, out)
	}
}
