package helpers

import (
	"encoding/binary"
	"net"
	"testing"
	"unsafe"

	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// TestFibLookupArgs: bpf_fib_lookup's argument checks, which come before
// any question to the host, are Linux's on every system (the answers
// themselves are compared with the kernel's in the root package's tests).
func TestFibLookupArgs(t *testing.T) {
	e := newEnv(t, vm.Checked)
	e.rc.Value = &Run{Program: linux.XDP}
	p, pp := e.mem("params", fibParamsSize, true)
	for _, tt := range []struct {
		family      byte
		plen, flags uint64
		want        int64
		why         string
	}{
		{afInet, 32, 0, eINVAL, "a short struct"},
		{afInet, 64, 1 << 5, eINVAL, "an unknown flag"},
		{99, 64, 0, eAFNOSUPPORT, "an unknown family"},
		{afInet, 64, fibLookupOutput, eNODEV, "no interface 0"},
		{afInet6, 64, 0, fibRetNotFwded, "a loopback destination"},
	} {
		clear(p)
		p[0] = tt.family
		if tt.family == afInet6 {
			p[fibOffDst+15] = 1 // ::1
		}
		if r := e.mustCall(linux.FnFibLookup, 0, pp, tt.plen, tt.flags); r != tt.want {
			t.Errorf("%s: %d, want %d", tt.why, r, tt.want)
		}
	}
	for _, a := range []struct {
		ip     string
		strict bool
	}{{"::1", true}, {"fe80::1", true}, {"febf::1", true}, {"fec0::1", false}, {"ff02::1", true}, {"2001:db8::1", false}, {"::2", false}} {
		if got := ipv6Strict(net.ParseIP(a.ip).To16()); got != a.strict {
			t.Errorf("ipv6Strict(%s) = %v", a.ip, got)
		}
	}
}

// TestCheckMTUArgs: bpf_check_mtu's flag rules per variant, and an
// interface that does not exist.
func TestCheckMTUArgs(t *testing.T) {
	e := newEnv(t, vm.Checked)
	m, mp := e.mem("mtu_len", 4, true)
	x := &linux.XDPContext{IngressIfindex: 1}
	e.rc.Value = &Run{Program: linux.XDP, Ctx: unsafe.Pointer(x)}
	binary.NativeEndian.PutUint32(m, 7)
	if r := e.mustCall(linux.FnCheckMtu, 0, 0, mp, 0, 1); r != eINVAL || binary.NativeEndian.Uint32(m) != 7 {
		t.Errorf("XDP with a flag: %d, mtu_len %d; want -EINVAL, untouched", r, binary.NativeEndian.Uint32(m))
	}
	if r := e.mustCall(linux.FnCheckMtu, 0, 1<<30, mp, 0, 0); r != eNODEV {
		t.Errorf("XDP on no interface: %d, want -ENODEV", r)
	}
	s := &linux.SKBContext{Ifindex: 1}
	e.rc.Value = &Run{Program: linux.SchedCLS, Ctx: unsafe.Pointer(s)}
	if r := e.mustCall(linux.FnCheckMtu, 0, 0, mp, 0, mtuChkSegs); r != eINVAL || binary.NativeEndian.Uint32(m) != 0 {
		t.Errorf("tc with BPF_MTU_CHK_SEGS and a length: %d, mtu_len %d; want -EINVAL, 0", r, binary.NativeEndian.Uint32(m))
	}
}
