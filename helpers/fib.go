package helpers

import (
	"encoding/binary"
	"net"

	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// bpf_fib_lookup(ctx, params, plen, flags) asks the host's forwarding
// table where a packet to params' destination goes, as XDP and tc
// forwarders do (xdp-forward, samples/bpf's xdp_fwd): on success it
// writes the egress interface, the next hop's address and both MAC
// addresses into struct bpf_fib_lookup. The answer comes from the host
// (fib_linux.go: the kernel's routes, neighbours and links, asked over
// netlink); elsewhere there is no table to ask and every lookup says the
// packet is not forwarded (BPF_FIB_LKUP_RET_NOT_FWDED), so a forwarder
// hands it to the host's stack.

// struct bpf_fib_lookup (linux/bpf.h): 64 bytes.
const (
	fibParamsSize = 64
	fibOffTotLen  = 6  // tot_len in, mtu_result out
	fibOffIfindex = 8  // ingress in, egress out
	fibOffMetric  = 12 // tos / flowinfo in, rt_metric out
	fibOffSrc     = 16
	fibOffDst     = 32
	fibOffVLAN    = 48 // h_vlan_proto, h_vlan_TCI; tbid in
	fibOffSmac    = 52
	fibOffDmac    = 58
)

// BPF_FIB_LOOKUP_* flags.
const (
	fibLookupDirect    = 1 << 0
	fibLookupOutput    = 1 << 1
	fibLookupSkipNeigh = 1 << 2
	fibLookupTBID      = 1 << 3
	fibLookupSrc       = 1 << 4
	fibLookupFlags     = fibLookupDirect | fibLookupOutput | fibLookupSkipNeigh | fibLookupTBID | fibLookupSrc
)

// BPF_FIB_LKUP_RET_* results.
const (
	fibRetSuccess     = 0
	fibRetBlackhole   = 1
	fibRetUnreachable = 2
	fibRetProhibit    = 3
	fibRetNotFwded    = 4
	fibRetFwdDisabled = 5
	fibRetFragNeeded  = 8
	fibRetNoSrcAddr   = 9
	fibRetNoNeigh     = 7
)

// Route types (RTN_*) and lookup errors the answer distinguishes.
const (
	rtnUnicast     = 1
	rtnBlackhole   = 6
	rtnUnreachable = 7
	rtnProhibit    = 8

	eNODEV        = -19
	eHOSTUNREACH  = -113
	eAFNOSUPPORT  = -97
	afInet        = 2
	afInet6       = 10
	ethHeaderSize = 14
)

// fibRoute is the host's route to a destination.
type fibRoute struct {
	errno   int64 // the lookup's error, negated (-EHOSTUNREACH, ...), or 0
	typ     uint8 // RTN_*
	oif     uint32
	gw      [16]byte // next hop, if hasGW (IPv4 in the first 4 bytes)
	hasGW   bool
	prefsrc [16]byte // preferred source, if hasSrc
	hasSrc  bool
	metric  uint32
	mtu     uint32 // the route's MTU metric, 0 if it has none
}

// fibLink is what a lookup needs of an interface.
type fibLink struct {
	name string
	mtu  uint32
	mac  [6]byte
}

func init() {
	register(linux.FnFibLookup, fibLookupHelper)
}

func fibLookupHelper(*impl) vm.Helper {
	const name = "bpf_fib_lookup"
	return func(rc *vm.RunContext, _, params, plen, flags, _ uint64) (uint64, error) {
		run, err := runOf(rc, name)
		if err != nil {
			return 0, err
		}
		if uint32(plen) < fibParamsSize || flags&^fibLookupFlags != 0 {
			return ret(eINVAL), nil
		}
		if err := rc.CheckArg(params, fibParamsSize, true); err != nil {
			return 0, argErr(name, "params", err)
		}
		p := vm.Bytes(params, fibParamsSize)
		return ret(fibLookup(p, uint32(flags), run)), nil
	}
}

// fibLookup is bpf_fib_lookup on the params p, as Linux's
// bpf_ipv4_fib_lookup and bpf_ipv6_fib_lookup answer it.
func fibLookup(p []byte, flags uint32, run *Run) int64 {
	ne := binary.NativeEndian
	var v6 bool
	switch p[0] {
	case afInet:
	case afInet6:
		v6 = true
	default:
		return eAFNOSUPPORT
	}
	alen := 4
	if v6 {
		alen = 16
	}
	var dst [16]byte
	copy(dst[:], p[fibOffDst:fibOffDst+alen])
	if v6 && (ipv6Strict(dst[:]) || ipv6Strict(p[fibOffSrc:fibOffSrc+16])) {
		return fibRetNotFwded // link-local, multicast and loopback are never forwarded
	}
	in, ok := fibLinkOf(ne.Uint32(p[fibOffIfindex:]))
	if !ok {
		return eNODEV
	}
	if !fibForwarding(v6, in.name) {
		return fibRetFwdDisabled
	}
	var oif, table uint32
	if flags&fibLookupOutput != 0 {
		oif = ne.Uint32(p[fibOffIfindex:])
	}
	if flags&fibLookupTBID != 0 {
		table = ne.Uint32(p[fibOffVLAN:])
	}
	r := fibRouteTo(v6, dst, oif, table)
	switch {
	case r.errno == eINVAL || r.typ == rtnBlackhole:
		return fibRetBlackhole
	case r.errno == eHOSTUNREACH || r.typ == rtnUnreachable:
		return fibRetUnreachable
	case r.errno == eACCES || r.typ == rtnProhibit:
		return fibRetProhibit
	case r.errno != 0 || r.typ != rtnUnicast:
		return fibRetNotFwded
	}
	out, ok := fibLinkOf(r.oif)
	if !ok {
		return fibRetNotFwded
	}
	mtu := r.mtu
	if mtu == 0 {
		mtu = out.mtu
	}
	totLen := uint32(ne.Uint16(p[fibOffTotLen:]))
	checkMTU := run.Program == linux.XDP || totLen != 0
	if checkMTU && totLen > mtu {
		ne.PutUint16(p[fibOffTotLen:], uint16(mtu))
		return fibRetFragNeeded
	}
	ne.PutUint32(p[fibOffMetric:], r.metric)
	ne.PutUint32(p[fibOffIfindex:], r.oif)
	if flags&fibLookupSrc != 0 {
		if !r.hasSrc && v6 {
			return fibRetNoSrcAddr
		}
		copy(p[fibOffSrc:fibOffSrc+alen], r.prefsrc[:alen])
	}
	if r.hasGW {
		copy(p[fibOffDst:fibOffDst+alen], r.gw[:alen])
		copy(dst[:], r.gw[:])
	}
	if flags&fibLookupSkipNeigh == 0 {
		mac, ok := fibNeighbour(v6, r.oif, dst)
		if !ok {
			return fibRetNoNeigh
		}
		copy(p[fibOffDmac:fibOffDmac+6], mac[:])
		copy(p[fibOffSmac:fibOffSmac+6], out.mac[:])
	}
	ne.PutUint32(p[fibOffVLAN:], 0)
	if checkMTU {
		ne.PutUint16(p[fibOffTotLen:], uint16(mtu))
		return fibRetSuccess
	}
	// A tc program that gave no length: the packet itself must fit
	// (is_skb_forwardable), and mtu_result is the device's.
	ne.PutUint16(p[fibOffTotLen:], uint16(out.mtu))
	if len(run.Packet) > ethHeaderSize && uint32(len(run.Packet)-ethHeaderSize) > out.mtu {
		return fibRetFragNeeded
	}
	return fibRetSuccess
}

// ipv6Strict reports whether an IPv6 address is multicast, link-local or
// loopback (Linux's rt6_need_strict).
func ipv6Strict(a []byte) bool {
	if a[0] == 0xff || a[0] == 0xfe && a[1]&0xc0 == 0x80 {
		return true
	}
	for _, b := range a[:15] {
		if b != 0 {
			return false
		}
	}
	return a[15] == 1
}

// fibLinkOf describes the interface ifindex; false if there is none.
func fibLinkOf(ifindex uint32) (fibLink, bool) {
	if ifindex == 0 {
		return fibLink{}, false
	}
	ifc, err := net.InterfaceByIndex(int(ifindex))
	if err != nil {
		return fibLink{}, false
	}
	l := fibLink{name: ifc.Name, mtu: uint32(ifc.MTU)}
	copy(l.mac[:], ifc.HardwareAddr)
	return l, true
}
