package helpers

import (
	"testing"

	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// optSocket is a socket with options: family, type and protocol, and the
// options it was given.
type optSocket struct {
	fakeSocket
	family, typ, proto int
	v6only             bool
	set                map[[2]int][]byte
}

func (s *optSocket) Kind() (int, int, int, bool) { return s.family, s.typ, s.proto, s.v6only }
func (s *optSocket) SetOption(level, name int, val []byte) int64 {
	s.set[[2]int{level, name}] = append([]byte(nil), val...)
	return 0
}
func (s *optSocket) GetOption(level, name int, val []byte) int64 {
	v, ok := s.set[[2]int{level, name}]
	if !ok {
		return -92 // ENOPROTOOPT
	}
	return int64(copy(val, v))
}

// bpf_setsockopt and bpf_getsockopt pass what Linux's sol_*_sockopt accept
// to the socket and answer the rest themselves, as Linux's helpers do
// (TestExecSockCtxAgreesWithKernel compares a few with the kernel).
func TestSockopt(t *testing.T) {
	e := newEnv(t, vm.Checked)
	val, vp := e.mem("optval", 16, true)
	set := func(level, name, n int) int64 {
		return e.mustCall(linux.FnSetsockopt, 0, uint64(level), uint64(name), vp, uint64(n))
	}
	get := func(level, name, n int) int64 {
		return e.mustCall(linux.FnGetsockopt, 0, uint64(level), uint64(name), vp, uint64(n))
	}
	// Without a socket with options: -EINVAL.
	if r := set(solSocket, soMark, 4); r != eINVAL {
		t.Errorf("setsockopt without a socket = %d", r)
	}
	e.rc.Value = &Run{Socket: &fakeSocket{}}
	if r := set(solSocket, soMark, 4); r != eINVAL {
		t.Errorf("setsockopt on a socket without options = %d", r)
	}
	tcp4 := &optSocket{family: afInet, typ: 1, proto: 6, set: map[[2]int][]byte{}}
	e.rc.Value = &Run{Socket: tcp4}
	for _, c := range []struct {
		name               string
		level, opt, optlen int
		want               int64
	}{
		{"SO_MARK", solSocket, soMark, 4, 0},
		{"SO_MARK as a u64", solSocket, soMark, 8, eINVAL},
		{"SO_LINGER", solSocket, 13, 8, eINVAL},
		{"SO_BINDTODEVICE", solSocket, soBindToDevice, 3, 0},
		{"IP_TOS", solIP, ipTOS, 4, 0},
		{"IP_TTL", solIP, 2, 4, eINVAL},
		{"IPV6_TCLASS on IPv4", solIPv6, ipv6TClass, 4, eINVAL},
		{"TCP_NODELAY", solTCP, tcpNoDelay, 4, 0},
		{"TCP_CONGESTION of one byte", solTCP, tcpCongestion, 1, eINVAL},
		{"TCP_CONGESTION", solTCP, tcpCongestion, 5, 0},
		{"TCP_BPF_IW", solTCP, 1001, 4, eOPNOTSUPP},
		{"level 99", 99, 1, 4, eINVAL},
	} {
		if r := set(c.level, c.opt, c.optlen); r != c.want {
			t.Errorf("setsockopt %s = %d, want %d", c.name, r, c.want)
		}
	}
	copy(val, "cdg\x00")
	if r := set(solTCP, tcpCongestion, 4); r != eNOTSUPP {
		t.Errorf("setsockopt TCP_CONGESTION cdg = %d, want -ENOTSUPP", r)
	}
	// getsockopt: the value, zero-filled after it; all zero on an error.
	tcp4.set[[2]int{solTCP, tcpCongestion}] = []byte("cubic\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	copy(val, "xxxxxxxxxxxxxxxx")
	if r := get(solTCP, tcpCongestion, 16); r != 0 || string(val) != "cubic\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" {
		t.Errorf("getsockopt TCP_CONGESTION = %d, %q", r, val)
	}
	tcp4.set[[2]int{solTCP, tcpCongestion}] = []byte("0123456789abcdef")
	if r := get(solTCP, tcpCongestion, 16); r != 0 || string(val) != "0123456789abcde\x00" {
		t.Errorf("getsockopt of a 16-byte TCP_CONGESTION = %d, %q: want it NUL-terminated", r, val)
	}
	copy(val, "xxxx")
	if r := get(solSocket, soBindToDevice, 4); r != eINVAL || string(val[:4]) != "\x00\x00\x00\x00" {
		t.Errorf("getsockopt SO_BINDTODEVICE = %d, %q", r, val[:4])
	}
	copy(val, "xxxx")
	if r := get(solSocket, soPriority, 4); r != -92 || string(val[:4]) != "\x00\x00\x00\x00" {
		t.Errorf("getsockopt of a failing option = %d, %q", r, val[:4])
	}
	// An IPv6-only socket has no IPv4 options; a UDP socket no TCP ones.
	e.rc.Value = &Run{Socket: &optSocket{family: afInet6, typ: 2, proto: 17, v6only: true, set: map[[2]int][]byte{}}}
	if r := set(solIP, ipTOS, 4); r != eINVAL {
		t.Errorf("IP_TOS on an IPv6-only socket = %d", r)
	}
	if r := set(solIPv6, ipv6TClass, 4); r != 0 {
		t.Errorf("IPV6_TCLASS on an IPv6 socket = %d", r)
	}
	if r := set(solTCP, tcpNoDelay, 4); r != eINVAL {
		t.Errorf("TCP_NODELAY on UDP = %d", r)
	}
	// The option value must be memory of the given size.
	if _, err := e.call(linux.FnSetsockopt, 0, solSocket, soMark, vp, 17); err == nil {
		t.Error("setsockopt past optval: no error")
	}
}
