package helpers

import (
	"testing"

	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

func TestStrtox(t *testing.T) {
	e := newEnv(t, vm.Checked)
	res, rp := e.mem("res", 8, true)
	tests := []struct {
		in    string
		flags uint64
		l     int64 // bpf_strtol return
		lv    int64
		ul    int64 // bpf_strtoul return
		ulv   uint64
	}{
		{"123", 0, 3, 123, 3, 123},
		{"  -42xyz", 0, 5, -42, eINVAL, 0},
		{"\t\n+5", 0, eINVAL, 0, eINVAL, 0}, // no '+' sign in the kernel parser
		{"0x1F", 0, 4, 31, 4, 31},
		{"0X1f", 16, 4, 31, 4, 31},
		{"1f", 16, 2, 31, 2, 31},
		{"0x", 0, 1, 0, 1, 0},  // "0" in octal, stops at x
		{"0xg", 0, 1, 0, 1, 0}, // base 16 only if a hex digit follows
		{"0xg", 16, eINVAL, 0, eINVAL, 0},
		{"017", 0, 3, 15, 3, 15},
		{"018", 0, 2, 1, 2, 1},
		{"017", 10, 3, 17, 3, 17},
		{"777", 8, 3, 511, 3, 511},
		{"12", 2, eINVAL, 0, eINVAL, 0},      // unsupported base
		{"12", 1 << 5, eINVAL, 0, eINVAL, 0}, // unknown flag
		{"", 0, eINVAL, 0, eINVAL, 0},
		{"   ", 0, eINVAL, 0, eINVAL, 0},
		{"-", 0, eINVAL, 0, eINVAL, 0},
		{"abc", 10, eINVAL, 0, eINVAL, 0},
		{"9223372036854775807", 0, 19, 9223372036854775807, 19, 9223372036854775807},
		{"9223372036854775808", 0, eRANGE, 0, 19, 9223372036854775808},
		{"-9223372036854775808", 0, 20, -9223372036854775808, eINVAL, 0},
		{"-9223372036854775809", 0, eRANGE, 0, eINVAL, 0},
		{"18446744073709551615", 0, eRANGE, 0, 20, 18446744073709551615},
		{"18446744073709551616", 0, eRANGE, 0, eRANGE, 0},
		{"ffffffffffffffff", 16, eRANGE, 0, 16, 0xffffffffffffffff},
		{"-0", 0, 2, 0, eINVAL, 0},
		{"12\x0034", 0, 2, 12, 2, 12},
		{"\xa042", 0, 3, 42, 3, 42}, // the kernel's isspace counts NBSP
	}
	for _, tt := range tests {
		var bp uint64
		if tt.in != "" {
			var b []byte
			b, bp = e.mem("buf", len(tt.in), false)
			copy(b, tt.in)
		} else {
			_, bp = e.mem("buf", 1, false)
		}
		for _, signed := range []bool{true, false} {
			id, want, wantV := linux.FnStrtol, tt.l, uint64(tt.lv)
			if !signed {
				id, want, wantV = linux.FnStrtoul, tt.ul, tt.ulv
			}
			copy(res, u64(0x5555))
			r := e.mustCall(id, bp, uint64(len(tt.in)), tt.flags, rp)
			got := *(*uint64)(vm.Pointer(rp))
			if r != want || got != wantV {
				t.Errorf("strto%s(%q, %#x) = %d, res %d; want %d, %d", map[bool]string{true: "l", false: "ul"}[signed],
					tt.in, tt.flags, r, int64(got), want, int64(wantV))
			}
		}
	}
	// A 63-character limit after the sign, as the kernel's copy has.
	long := "   " + string(make([]byte, 0)) + "0000000000000000000000000000000000000000000000000000000000000000012"
	b, bp := e.mem("long", len(long), false)
	copy(b, long)
	if r := e.mustCall(linux.FnStrtoul, bp, uint64(len(long)), 0, rp); r != 3+63 {
		t.Errorf("long input consumed %d, want %d", r, 3+63)
	}
}

func TestStrncmp(t *testing.T) {
	e := newEnv(t, vm.Checked)
	s2b, s2 := e.mem("s2", 4, false)
	copy(s2b, "abc\x00")
	for _, tt := range []struct {
		s1   string
		n    uint64
		want int64
	}{
		{"abc", 3, 0},
		{"abc\x00zz", 6, 0},
		{"abd", 3, 1},
		{"abb", 3, -1},
		{"ab", 2, 0},
		{"abcd", 4, 1},
		{"ab\x00", 3, -1},
		{"\xff", 1, 1}, // compared as unsigned chars
	} {
		b, p := e.mem("s1", len(tt.s1), false)
		copy(b, tt.s1)
		if r := e.mustCall(linux.FnStrncmp, p, tt.n, s2); r != tt.want {
			t.Errorf("strncmp(%q, %d) = %d, want %d", tt.s1, tt.n, r, tt.want)
		}
	}
	_, err := e.call(linux.FnStrncmp, s2, 2, 0xdead000)
	wantAccessError(t, "strncmp s2 wild", err)
}
