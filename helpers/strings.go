package helpers

import (
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

func init() {
	register(linux.FnStrncmp, strncmp)
	register(linux.FnStrtol, func(*impl) vm.Helper { return strtox("bpf_strtol", true) })
	register(linux.FnStrtoul, func(*impl) vm.Helper { return strtox("bpf_strtoul", false) })
}

// strncmp is bpf_strncmp(s1, s1_sz, s2): the kernel's strncmp(s1, s2,
// s1_sz), -1, 0 or 1. s2 is a constant NUL-terminated string.
func strncmp(*impl) vm.Helper {
	const name = "bpf_strncmp"
	return func(rc *vm.RunContext, s1, n, s2, _, _ uint64) (uint64, error) {
		n = uint64(uint32(n))
		if err := rc.CheckArg(s1, n, false); err != nil {
			return 0, argErr(name, "s1", err)
		}
		a := vm.Bytes(s1, int(n))
		b, ok := cString(rc, s2, 1<<16)
		if !ok {
			if rc.Mode == vm.Checked {
				return 0, argErr(name, "s2", &vm.AccessError{Addr: s2, Size: 1})
			}
			return ret(eINVAL), nil
		}
		for i := range a {
			var c2 byte
			if i < len(b) {
				c2 = b[i]
			}
			if a[i] != c2 {
				if a[i] < c2 {
					return ret(-1), nil
				}
				return 1, nil
			}
			if a[i] == 0 {
				break
			}
		}
		return 0, nil
	}
}

// Flags of bpf_strtol and bpf_strtoul.
const strtoxBaseMask = 0x1f // BPF_STRTOX_BASE_MASK

// isSpaceK is the kernel's isspace, which also counts Latin-1 NBSP.
func isSpaceK(c byte) bool { return isSpace(c) || c == 0xa0 }

// parseUint parses buf as the kernel's __bpf_strtoull does: leading white
// space, an optional '-', base 0 (prefixes 0x, 0), 8, 10 or 16, at most 63
// characters after the sign. It returns the value, whether it was negative
// and the characters consumed, or a negative errno.
func parseUint(buf []byte, flags uint64) (v uint64, neg bool, consumed int64) {
	base := flags & strtoxBaseMask
	if len(buf) == 0 || flags&^strtoxBaseMask != 0 || (base != 0 && base != 8 && base != 10 && base != 16) {
		return 0, false, eINVAL
	}
	i := 0
	for i < len(buf) && isSpaceK(buf[i]) {
		i++
	}
	if i < len(buf) && buf[i] == '-' {
		neg = true
		i++
	}
	if i == len(buf) {
		return 0, neg, eINVAL
	}
	// The kernel copies at most 63 characters into a NUL-terminated buffer.
	s := buf[i:min(len(buf), i+63)]
	for k, c := range s {
		if c == 0 {
			s = s[:k]
			break
		}
	}
	start := len(s)
	if base == 0 {
		switch {
		case len(s) > 0 && s[0] == '0':
			if len(s) > 2 && s[1]|0x20 == 'x' && hexDigit(s[2]) < 16 {
				base = 16
			} else {
				base = 8
			}
		default:
			base = 10
		}
	}
	if base == 16 && len(s) >= 2 && s[0] == '0' && s[1]|0x20 == 'x' {
		s = s[2:]
	}
	overflow := false
	n := 0
	for ; n < len(s); n++ {
		d := uint64(hexDigit(s[n]))
		if d >= base {
			break
		}
		if v > (^uint64(0)-d)/base {
			overflow = true
		}
		v = v*base + d
	}
	if overflow {
		return 0, neg, eRANGE
	}
	if n == 0 {
		return 0, neg, eINVAL
	}
	return v, neg, int64(i + (start - len(s)) + n)
}

// hexDigit returns the value of a digit character, 16 or more for others.
func hexDigit(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c|0x20 >= 'a' && c|0x20 <= 'f':
		return c | 0x20 - 'a' + 10
	}
	return 255
}

// strtox is bpf_strtol and bpf_strtoul(buf, buf_len, flags, res): the
// number of characters consumed, the value in *res (0 on error).
func strtox(name string, signed bool) vm.Helper {
	return func(rc *vm.RunContext, buf, n, flags, res, _ uint64) (uint64, error) {
		n = uint64(uint32(n))
		if err := rc.CheckArg(buf, n, false); err != nil {
			return 0, argErr(name, "buf", err)
		}
		if err := rc.CheckArg(res, 8, true); err != nil {
			return 0, argErr(name, "res", err)
		}
		out := (*int64)(vm.Pointer(res))
		*out = 0
		v, neg, r := parseUint(vm.Bytes(buf, int(n)), flags)
		if r < 0 {
			return ret(r), nil
		}
		switch {
		case !signed && neg:
			return ret(eINVAL), nil
		case !signed:
			*out = int64(v)
		case neg && int64(-v) > 0, !neg && int64(v) < 0:
			return ret(eRANGE), nil
		case neg:
			*out = int64(-v)
		default:
			*out = int64(v)
		}
		return uint64(r), nil
	}
}
