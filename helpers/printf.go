package helpers

import (
	"encoding/binary"
	"strconv"

	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// The printf helpers follow Linux's two steps: bpf_bprintf_prepare checks
// the format and copies what pointer arguments point to (strings, IP
// addresses) into a 512-byte argument buffer, then bstr_printf formats.
// Accepted conversions: %d %i %u %x %X with l or ll, %c, %s, %pks, %pus,
// %p %pK %px %ps %pS %pB, %pi4 %pI4 %pi6 %pI6 and %%, each with optional
// flags [0 +-] and a width, no precision.

const (
	maxPrintkArgs   = 3    // MAX_TRACE_PRINTK_VARARGS
	maxSnprintfArgs = 12   // MAX_BPRINTF_VARARGS
	bprintfBinArgs  = 512  // MAX_BPRINTF_BIN_ARGS: room for copied arguments
	bprintfBuf      = 1024 // MAX_BPRINTF_BUF: bpf_trace_printk's output buffer
	fieldWidthMax   = 1<<23 - 1
)

// fmtArg is one prepared argument: the value, or the copied text of a
// string or IP address argument.
type fmtArg struct {
	v    uint64
	text []byte
}

// prepared holds what bprintfPrepare copied.
type prepared struct {
	args [maxSnprintfArgs]fmtArg
	buf  [bprintfBinArgs]byte
	used int
}

func isPrint(c byte) bool { return c >= 0x20 && c < 0x7f }
func isSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isPunct(c byte) bool { return isPrint(c) && c != ' ' && !isAlnum(c) }

// at returns f[i], or 0 past the end (the NUL of the C string).
func at(f []byte, i int) byte {
	if i < len(f) {
		return f[i]
	}
	return 0
}

// reserve takes n bytes of the argument buffer, 4-byte aligned as Linux
// stores numbers; false if they do not fit (-ENOSPC).
func (p *prepared) reserve(n int) bool {
	p.used = (p.used + 3) &^ 3
	if bprintfBinArgs-p.used < n {
		return false
	}
	p.used += n
	return true
}

// bprintfPrepare checks format f (without its NUL) against raw, copies
// string and IP arguments, and returns 0 or -EINVAL / -ENOSPC.
func bprintfPrepare(rc *vm.RunContext, f []byte, raw []uint64, p *prepared) int64 {
	nspec := 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c < 0x80 && !isPrint(c) && !isSpace(c) {
			return eINVAL
		}
		if c != '%' {
			continue
		}
		if at(f, i+1) == '%' {
			i++
			continue
		}
		if nspec >= len(raw) {
			return eINVAL
		}
		i++
		if at(f, i) >= 0x80 {
			return eINVAL
		}
		for c := at(f, i); c == '0' || c == '+' || c == '-' || c == ' '; c = at(f, i) {
			i++
		}
		if c := at(f, i); c >= '1' && c <= '9' {
			for i++; isDigit(at(f, i)); i++ {
			}
		}
		arg := &p.args[nspec]
		arg.v, arg.text = raw[nspec], nil
		switch c := at(f, i); {
		case c == 'p':
			next := at(f, i+1)
			switch {
			case (next == 'k' || next == 'u') && at(f, i+2) == 's':
				i += 2
				if at(f, i+1) != 0 && !isSpace(at(f, i+1)) && !isPunct(at(f, i+1)) {
					return eINVAL
				}
				if !p.copyString(rc, arg) {
					return eNOSPC
				}
			case next == 'K' || next == 'x' || next == 's' || next == 'S':
				i++
				fallthrough
			case next == 0 || isSpace(next) || isPunct(next):
				if !p.reserve(8) {
					return eNOSPC
				}
			case next == 'B':
				i++
				p.copyText(arg, appendHex(nil, arg.v))
			case (next == 'i' || next == 'I') && (at(f, i+2) == '4' || at(f, i+2) == '6'):
				i += 2
				size := 4
				if f[i] == '6' {
					size = 16
				}
				if bprintfBinArgs-p.used < size {
					return eNOSPC
				}
				var ip [16]byte
				if !readOwned(rc, ip[:size], arg.v) {
					clear(ip[:])
				}
				var txt [48]byte
				p.copyText(arg, appendIP(txt[:0], ip[:size], next == 'I'))
			default:
				return eINVAL
			}
		case c == 's':
			if at(f, i+1) != 0 && !isSpace(at(f, i+1)) && !isPunct(at(f, i+1)) {
				return eINVAL
			}
			if !p.copyString(rc, arg) {
				return eNOSPC
			}
		case c == 'c':
			if !p.reserve(1) {
				return eNOSPC
			}
		default:
			size := 4
			for range 2 {
				if at(f, i) == 'l' {
					size = 8
					i++
				}
			}
			switch at(f, i) {
			case 'i', 'd', 'u', 'x', 'X':
			default:
				return eINVAL
			}
			if !p.reserve(size) {
				return eNOSPC
			}
		}
		nspec++
	}
	return 0
}

// copyString copies the string argument into the argument buffer: an
// unreadable pointer gives the empty string, a long one is cut to fit.
func (p *prepared) copyString(rc *vm.RunContext, arg *fmtArg) bool {
	if p.used == bprintfBinArgs {
		return false
	}
	dst := p.buf[p.used:]
	n := readStr(rc, dst, arg.v)
	if n <= 0 {
		dst[0] = 0
		n = 1
	}
	arg.text = dst[:n-1]
	p.used += int(n)
	return true
}

// copyText stores pre-formatted text (IP addresses, %pB) as Linux's
// snprintf into the argument buffer does: cut to fit, NUL-terminated.
func (p *prepared) copyText(arg *fmtArg, txt []byte) {
	room := bprintfBinArgs - p.used
	if room <= 0 {
		arg.text = nil
		return
	}
	n := copy(p.buf[p.used:p.used+room-1], txt)
	arg.text = p.buf[p.used : p.used+n]
	p.used += len(txt) + 1
	if p.used > bprintfBinArgs {
		p.used = bprintfBinArgs
	}
}

// sink collects output up to its buffer's size and counts all of it, as
// vsnprintf returns the length it would have written.
type sink struct {
	buf []byte
	n   int
}

func (s *sink) byte(c byte) {
	if s.n < len(s.buf) {
		s.buf[s.n] = c
	}
	s.n++
}

func (s *sink) bytes(b []byte) {
	if s.n < len(s.buf) {
		copy(s.buf[s.n:], b)
	}
	s.n += len(b)
}

func (s *sink) pad(c byte, n int) {
	if n <= 0 {
		return
	}
	if s.n < len(s.buf) {
		room := s.buf[s.n:min(len(s.buf), s.n+n)]
		for i := range room {
			room[i] = c
		}
	}
	s.n += n
}

// spec is one conversion's flags and width.
type spec struct {
	left, plus, space, zero bool
	width                   int
}

// field writes text padded to the width with spaces, as the kernel's
// string() does.
func (s *sink) field(sp spec, text []byte) {
	if !sp.left {
		s.pad(' ', sp.width-len(text))
	}
	s.bytes(text)
	if sp.left {
		s.pad(' ', sp.width-len(text))
	}
}

// number writes an integer as the kernel's number() does without a
// precision: sign for signed conversions, zero or space padding.
func (s *sink) number(sp spec, v uint64, signed bool, base int, upper bool) {
	var sign byte
	w := sp.width
	if sp.left {
		sp.zero = false
	}
	if signed {
		switch {
		case int64(v) < 0:
			sign, v = '-', -v
		case sp.plus:
			sign = '+'
		case sp.space:
			sign = ' '
		}
		if sign != 0 {
			w--
		}
	}
	var digits [24]byte
	d := strconv.AppendUint(digits[:0], v, base)
	if upper {
		for i, c := range d {
			if c >= 'a' {
				d[i] = c - 'a' + 'A'
			}
		}
	}
	w -= len(d)
	if !sp.zero && !sp.left {
		s.pad(' ', w)
		w = 0
	}
	if sign != 0 {
		s.byte(sign)
	}
	if !sp.left {
		s.pad('0', w)
		w = 0
	}
	s.bytes(d)
	s.pad(' ', w)
}

// bstrPrintf formats the prepared format into s, as bstr_printf does.
func bstrPrintf(s *sink, f []byte, p *prepared) {
	nspec := 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			s.byte(c)
			continue
		}
		if at(f, i+1) == '%' {
			s.byte('%')
			i++
			continue
		}
		var sp spec
		for i++; ; i++ {
			switch at(f, i) {
			case '-':
				sp.left = true
				continue
			case '+':
				sp.plus = true
				continue
			case ' ':
				sp.space = true
				continue
			case '0':
				sp.zero = true
				continue
			}
			break
		}
		for ; isDigit(at(f, i)); i++ {
			sp.width = min(sp.width*10+int(f[i]-'0'), fieldWidthMax)
		}
		arg := &p.args[nspec]
		nspec++
		switch at(f, i) {
		case 'p':
			switch next := at(f, i+1); {
			case next == 's' || next == 'S':
				var b [20]byte
				s.field(sp, appendHex(b[:0], arg.v))
			case next == 'B' || next == 'k' || next == 'u' || next == 'i' || next == 'I':
				s.bytes(arg.text) // pre-formatted; Linux applies no width
			default: // %p, %pK, %px: the address, 16 hex digits by default
				if sp.width == 0 {
					sp.width, sp.zero = 16, true
				}
				s.number(sp, arg.v, false, 16, false)
			}
			for isAlnum(at(f, i+1)) { // bstr_printf skips the pointer's modifiers
				i++
			}
		case 's':
			s.field(sp, arg.text)
		case 'c':
			ch := [1]byte{byte(arg.v)}
			s.field(sp, ch[:])
		default:
			size := 4
			for at(f, i) == 'l' {
				size = 8
				i++
			}
			v := arg.v
			conv := at(f, i)
			signed := conv == 'd' || conv == 'i'
			if size == 4 {
				v = uint64(uint32(v))
				if signed {
					v = uint64(int64(int32(uint32(v))))
				}
			}
			base := 10
			if conv == 'x' || conv == 'X' {
				base = 16
			}
			s.number(sp, v, signed, base, conv == 'X')
		}
	}
}

// appendHex appends "0x" and v in hex: what %ps and %pB print for an
// address without a symbol.
func appendHex(b []byte, v uint64) []byte {
	return strconv.AppendUint(append(b, "0x"...), v, 16)
}

// appendIP formats an IPv4 (4 bytes) or IPv6 (16 bytes) address as %pI4,
// %pi4, %pI6 and %pi6 do: dotted decimal (zero-padded for i), groups of
// four hex digits (with colons for I).
func appendIP(b, ip []byte, upper bool) []byte {
	const hex = "0123456789abcdef"
	if len(ip) == 4 {
		for k, o := range ip {
			if k > 0 {
				b = append(b, '.')
			}
			if !upper {
				b = append(b, '0'+o/100, '0'+o/10%10, '0'+o%10)
			} else {
				b = strconv.AppendUint(b, uint64(o), 10)
			}
		}
		return b
	}
	for k, o := range ip {
		if upper && k > 0 && k%2 == 0 {
			b = append(b, ':')
		}
		b = append(b, hex[o>>4], hex[o&15])
	}
	return b
}

func init() {
	register(linux.FnTracePrintk, tracePrintk)
	register(linux.FnTraceVprintk, traceVprintk)
	register(linux.FnSnprintf, snprintf)
}

// tracePrintk is bpf_trace_printk(fmt, fmt_size, arg1, arg2, arg3): it
// hands the formatted line to Host.Printk and returns its length.
func tracePrintk(h *impl) vm.Helper {
	return func(rc *vm.RunContext, fmtAddr, fmtSize, a1, a2, a3 uint64) (uint64, error) {
		raw := [maxPrintkArgs]uint64{a1, a2, a3}
		return h.printk(rc, "bpf_trace_printk", fmtAddr, fmtSize, raw[:])
	}
}

// traceVprintk is bpf_trace_vprintk(fmt, fmt_size, data, data_len), what
// bpf_printk compiles to with more than three arguments: the arguments
// are data_len/8 u64 values at data (at most 12, as bpf_snprintf's); it
// prints as bpf_trace_printk does.
func traceVprintk(h *impl) vm.Helper {
	const name = "bpf_trace_vprintk"
	return func(rc *vm.RunContext, fmtAddr, fmtSize, data, dataLen, _ uint64) (uint64, error) {
		dataLen = uint64(uint32(dataLen))
		if dataLen%8 != 0 || dataLen > maxSnprintfArgs*8 || (dataLen != 0 && data == 0) {
			return ret(eINVAL), nil
		}
		if err := rc.CheckArg(data, dataLen, false); err != nil {
			return 0, argErr(name, "data", err)
		}
		var raw [maxSnprintfArgs]uint64
		d := vm.Bytes(data, int(dataLen))
		for i := range int(dataLen / 8) {
			raw[i] = binary.NativeEndian.Uint64(d[i*8:])
		}
		return h.printk(rc, name, fmtAddr, fmtSize, raw[:dataLen/8])
	}
}

// printk formats the NUL-terminated format in fmt_size bytes at fmtAddr
// with the arguments raw, hands the line (without a final newline) to
// Host.Printk and returns its length, or -EINVAL for a bad format.
func (h *impl) printk(rc *vm.RunContext, name string, fmtAddr, fmtSize uint64, raw []uint64) (uint64, error) {
	fmtSize = uint64(uint32(fmtSize))
	if err := rc.CheckArg(fmtAddr, fmtSize, false); err != nil {
		return 0, argErr(name, "fmt", err)
	}
	f := vm.Bytes(fmtAddr, int(fmtSize))
	end := -1
	for i, c := range f {
		if c == 0 {
			end = i
			break
		}
	}
	if end < 0 {
		return ret(eINVAL), nil
	}
	f = f[:end]
	var p prepared
	if r := bprintfPrepare(rc, f, raw, &p); r < 0 {
		return ret(r), nil
	}
	var out [bprintfBuf - 1]byte
	s := sink{buf: out[:]}
	bstrPrintf(&s, f, &p)
	line := out[:min(s.n, len(out))]
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	h.host.Printk(string(line))
	return uint64(s.n), nil
}

// snprintf is bpf_snprintf(str, str_size, fmt, data, data_len): it formats
// into str (always NUL-terminated when str_size > 0) and returns the length
// of the whole output including the NUL.
func snprintf(*impl) vm.Helper {
	const name = "bpf_snprintf"
	return func(rc *vm.RunContext, str, size, fmtAddr, data, dataLen uint64) (uint64, error) {
		size, dataLen = uint64(uint32(size)), uint64(uint32(dataLen))
		if err := rc.CheckArg(str, size, true); err != nil {
			return 0, argErr(name, "str", err)
		}
		// The verifier marks all of str written whatever the result: bytes
		// the output does not reach, or all of them on failure, are zero.
		out := vm.Bytes(str, int(size))
		failed := func(r int64) (uint64, error) {
			clear(out)
			return ret(r), nil
		}
		if dataLen%8 != 0 || dataLen > maxSnprintfArgs*8 || (dataLen != 0 && data == 0) {
			return failed(eINVAL)
		}
		if err := rc.CheckArg(data, dataLen, false); err != nil {
			return 0, argErr(name, "data", err)
		}
		f, ok := cString(rc, fmtAddr, 1<<16)
		if !ok {
			if rc.Mode == vm.Checked {
				return 0, argErr(name, "fmt", &vm.AccessError{Addr: fmtAddr, Size: 1})
			}
			return failed(eINVAL)
		}
		var raw [maxSnprintfArgs]uint64
		d := vm.Bytes(data, int(dataLen))
		for i := range int(dataLen / 8) {
			raw[i] = binary.NativeEndian.Uint64(d[i*8:])
		}
		var p prepared
		if r := bprintfPrepare(rc, f, raw[:dataLen/8], &p); r < 0 {
			return failed(r)
		}
		var s sink
		if size > 0 {
			s.buf = vm.Bytes(str, int(size))[:size-1]
		}
		bstrPrintf(&s, f, &p)
		if size > 0 {
			end := min(s.n, int(size)-1)
			out[end] = 0
			clear(out[end+1:])
		}
		return uint64(s.n + 1), nil
	}
}
