package helpers

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

func TestTracePrintk(t *testing.T) {
	e := newEnv(t, vm.Checked)
	str := func(s string) uint64 {
		_, p := e.mem("str", len(s)+1, false)
		copy(vm.Bytes(p, len(s)), s)
		return p
	}
	ip4 := str("\x0a\x00\x02\x0f")
	ip6 := str("\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01")
	hello := str("hello")
	neg := uint64(0xffffffff) // -1 as a 32-bit int
	tests := []struct {
		fmt  string
		args []uint64
		want string // "" with err set: want that return value
		err  int64
	}{
		{fmt: "plain\n", want: "plain"},
		{fmt: "%d %i %u", args: []uint64{neg, 5, neg}, want: "-1 5 4294967295"},
		{fmt: "%ld %lu %lld", args: []uint64{^uint64(0), ^uint64(0), 1 << 40}, want: "-1 18446744073709551615 1099511627776"},
		{fmt: "%x %X %lx", args: []uint64{0xabc, 0xabc, 1 << 36}, want: "abc ABC 1000000000"},
		{fmt: "%llx %x", args: []uint64{^uint64(0), ^uint64(0)}, want: "ffffffffffffffff ffffffff"},
		{fmt: "%d", args: []uint64{1 << 32}, want: "0"},
		{fmt: "[%5d|%-5d|%05d|%+d|% d]", args: []uint64{42, 42, 42}, err: eINVAL}, // 5 specs, 3 args
		{fmt: "[%5d|%-5d|%05d]", args: []uint64{42, 42, neg}, want: "[   42|42   |-0001]"},
		{fmt: "[%+d|% d|%+u]", args: []uint64{7, 7, 7}, want: "[+7| 7|7]"},
		{fmt: "[%-05d|%08x]", args: []uint64{3, 0xbeef}, want: "[3    |0000beef]"},
		{fmt: "%s, %5s|%-6s|", args: []uint64{hello, hello, hello}, want: "hello, hello|hello |"},
		{fmt: "%s|", args: []uint64{0}, want: "|"},          // unreadable string prints empty
		{fmt: "%s|", args: []uint64{0xdead0000}, want: "|"}, // unowned memory too
		{fmt: "%c%c%3c", args: []uint64{'o', 'k', '!'}, want: "ok  !"},
		{fmt: "100%%", want: "100%"},
		{fmt: "%pI4 %pi4", args: []uint64{ip4, ip4}, want: "10.0.2.15 010.000.002.015"},
		{fmt: "%pI6", args: []uint64{ip6}, want: "2001:0db8:0000:0000:0000:0000:0000:0001"},
		{fmt: "%pi6", args: []uint64{ip6}, want: "20010db8000000000000000000000001"},
		{fmt: "%pI4", args: []uint64{0}, want: "0.0.0.0"},
		{fmt: "%p %px", args: []uint64{0x1234, 0xff}, want: "0000000000001234 00000000000000ff"},
		{fmt: "%pK|%ps", args: []uint64{0x10, 0x20}, want: "0000000000000010|0x20"},
		{fmt: "%pks", args: []uint64{hello}, want: "hello"},
		{fmt: "%lc", args: []uint64{1}, err: eINVAL},
		{fmt: "%llc", args: []uint64{1}, err: eINVAL},
		{fmt: "%hd", args: []uint64{1}, err: eINVAL},
		{fmt: "%.2d", args: []uint64{1}, err: eINVAL},
		{fmt: "%f", args: []uint64{1}, err: eINVAL},
		{fmt: "%sx", args: []uint64{hello}, err: eINVAL},
		{fmt: "%pA", args: []uint64{1}, err: eINVAL},
		{fmt: "%", err: eINVAL},
		{fmt: "%d %d %d %d", args: []uint64{1, 2, 3}, err: eINVAL},
		{fmt: "bad\x01char", err: eINVAL},
		{fmt: "caf\xc3\xa9 %d", args: []uint64{1}, want: "caf\xc3\xa9 1"},
		{fmt: "%\xc3", args: []uint64{1}, err: eINVAL},
	}
	for _, tt := range tests {
		f := str(tt.fmt)
		var a [3]uint64
		copy(a[:], tt.args)
		r := e.mustCall(linux.FnTracePrintk, f, uint64(len(tt.fmt)+1), a[0], a[1], a[2])
		if tt.err != 0 {
			if r != tt.err {
				t.Errorf("printk(%q) = %d, want %d", tt.fmt, r, tt.err)
			}
			continue
		}
		got := e.host.last()
		if got != tt.want {
			t.Errorf("printk(%q) printed %q, want %q", tt.fmt, got, tt.want)
		}
		wantLen := len(tt.want)
		if strings.HasSuffix(tt.fmt, "\n") {
			wantLen++
		}
		if r != int64(wantLen) {
			t.Errorf("printk(%q) = %d, want %d", tt.fmt, r, wantLen)
		}
	}

	// fmt must be NUL-terminated within fmt_size.
	f := str("abc")
	if r := e.mustCall(linux.FnTracePrintk, f, 3); r != eINVAL {
		t.Errorf("unterminated fmt = %d, want -EINVAL", r)
	}
	// Output is cut at 1023 bytes; the return value is the full length.
	if r := e.mustCall(linux.FnTracePrintk, str("%2000d"), 7, 5); r != 2000 || len(e.host.last()) != 1023 {
		t.Errorf("wide printk = %d, %d bytes printed", r, len(e.host.last()))
	}
	// Strings share a 512-byte argument buffer.
	long := str(strings.Repeat("x", 600))
	e.mustCall(linux.FnTracePrintk, str("%s"), 3, long)
	if n := len(e.host.last()); n != 511 {
		t.Errorf("600-byte %%s printed %d bytes, want 511", n)
	}
}

// TestTraceVprintk: bpf_trace_vprintk takes its arguments as an array of
// u64 (up to 12), and refuses a length that is not a multiple of 8, too
// long, or non-zero with no array, as Linux does.
func TestTraceVprintk(t *testing.T) {
	e := newEnv(t, vm.Checked)
	fm, fp := e.mem("fmt", 64, false)
	copy(fm, "%d %s %x %u %c\n\x00")
	hello, hp := e.mem("hello", 6, false)
	copy(hello, "hello\x00")
	args, ap := e.mem("args", 13*8, false)
	for i, v := range []uint64{^uint64(0), hp, 0xbeef, 7, 'z'} {
		binary.NativeEndian.PutUint64(args[i*8:], v)
	}
	if r := e.mustCall(linux.FnTraceVprintk, fp, 17, ap, 40); r != 18 || e.host.last() != "-1 hello beef 7 z" {
		t.Errorf("vprintk = %d, printed %q", r, e.host.last())
	}
	for _, tt := range []struct {
		data, size uint64
		why        string
	}{
		{ap, 32, "4 arguments for 5 conversions"},
		{ap, 44, "a length not a multiple of 8"},
		{ap, 13 * 8, "13 arguments"},
		{0, 40, "no argument array"},
	} {
		if r := e.mustCall(linux.FnTraceVprintk, fp, 17, tt.data, tt.size); r != eINVAL {
			t.Errorf("vprintk with %s = %d, want -EINVAL", tt.why, r)
		}
	}
	copy(fm, "no args\x00")
	if r := e.mustCall(linux.FnTraceVprintk, fp, 8, 0, 0); r != 7 || e.host.last() != "no args" {
		t.Errorf("vprintk without arguments = %d, printed %q", r, e.host.last())
	}
}

func TestSnprintf(t *testing.T) {
	e := newEnv(t, vm.Checked)
	rodata, rp := e.mem("rodata", 64, false)
	copy(rodata, "n=%d s=%s\x00")
	_, argp := e.mem("args", 16, false)
	hello, hp := e.mem("hello", 6, false)
	copy(hello, "hello")
	copy(vm.Bytes(argp, 16), append(u64(uint64(0xfffffff9)), u64(hp)...))
	out, op := e.mem("out", 32, true)

	r := e.mustCall(linux.FnSnprintf, op, 32, rp, argp, 16)
	want := "n=-7 s=hello"
	if r != int64(len(want)+1) || string(out[:len(want)+1]) != want+"\x00" {
		t.Errorf("snprintf = %d, %q", r, out)
	}
	// Truncated: NUL-terminated, returns the full length.
	clear(out)
	if r := e.mustCall(linux.FnSnprintf, op, 5, rp, argp, 16); r != int64(len(want)+1) || !bytes.Equal(out[:6], []byte("n=-7\x00\x00")) {
		t.Errorf("snprintf size 5 = %d, %q", r, out[:6])
	}
	// Size 0: nothing written, length still returned.
	if r := e.mustCall(linux.FnSnprintf, 0, 0, rp, argp, 16); r != int64(len(want)+1) {
		t.Errorf("snprintf size 0 = %d", r)
	}
	for _, bad := range []struct {
		name      string
		data, len uint64
	}{
		{"data_len not a multiple of 8", argp, 12},
		{"too many args", argp, 13 * 8},
		{"data NULL", 0, 8},
		{"too few args", argp, 8},
	} {
		if r := e.mustCall(linux.FnSnprintf, op, 32, rp, bad.data, bad.len); r != eINVAL {
			t.Errorf("%s: %d, want -EINVAL", bad.name, r)
		}
	}
	// fmt without a NUL in registered memory faults in checked mode.
	copy(rodata, strings.Repeat("a", 64))
	_, err := e.call(linux.FnSnprintf, op, 32, rp, argp, 16)
	wantAccessError(t, "unterminated fmt", err)
}

func TestPrintfNoTruncationSurprises(t *testing.T) {
	// The sink counts what does not fit and never writes past its buffer.
	buf := make([]byte, 4, 8)
	s := sink{buf: buf}
	s.bytes([]byte("abcdef"))
	s.pad('x', 3)
	s.byte('!')
	if s.n != 10 || string(buf) != "abcd" || string(buf[:8][4:]) != "\x00\x00\x00\x00" {
		t.Errorf("sink: n %d, %q", s.n, buf[:8])
	}
	for _, tt := range []struct {
		sp   spec
		v    int64
		want string
	}{
		{spec{width: 6, zero: true}, -42, "-00042"},
		{spec{width: 6, plus: true}, 42, "   +42"},
		{spec{width: 6, left: true, plus: true}, 42, "+42   "},
		{spec{width: 2}, -12345, "-12345"},
	} {
		var out [32]byte
		s := sink{buf: out[:]}
		s.number(tt.sp, uint64(tt.v), true, 10, false)
		if got := string(out[:s.n]); got != tt.want {
			t.Errorf("number(%+v, %d) = %q, want %q", tt.sp, tt.v, got, tt.want)
		}
	}
}
