//go:build linux

package netnstest

import "testing"

// Names of different processes never collide: the process ID and the
// call count are kept apart (PID 123's call 45 and PID 1234's call 5 were
// both "bx12345"), and the longest name fits an interface name.
func TestUniqSuffix(t *testing.T) {
	if a, b := uniqSuffix(123, 45), uniqSuffix(1234, 5); a == b {
		t.Errorf("PID 123 call 45 and PID 1234 call 5 are both %q", a)
	}
	seen := map[string][2]int{}
	for pid := 1; pid < 3000; pid++ {
		for n := 1; n < 40; n++ {
			s := uniqSuffix(pid, uint32(n))
			if prev, ok := seen[s]; ok {
				t.Fatalf("%q for PID %d call %d and PID %d call %d", s, pid, n, prev[0], prev[1])
			}
			seen[s] = [2]int{pid, n}
		}
	}
	if s := "bxp" + uniqSuffix(1<<22, 1<<20); len(s) > 15 {
		t.Errorf("%q is longer than an interface name may be (15 bytes)", s)
	}
}
