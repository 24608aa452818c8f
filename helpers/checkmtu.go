package helpers

import (
	"encoding/binary"

	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// bpf_check_mtu(ctx, ifindex, *mtu_len, len_diff, flags) checks whether a
// packet fits the MTU of an interface (ifindex 0: the one the packet is on;
// loopback in a test run) and writes that MTU to *mtu_len; XDP and tc
// variants as Linux's bpf_xdp_check_mtu and bpf_skb_check_mtu. The
// interface's MTU and link header length come from the host (fibLinkOf,
// fibHeaderLen).

// BPF_MTU_CHK_* flags and results.
const (
	mtuChkSegs        = 1
	mtuChkSuccess     = 0
	mtuChkFragNeeded  = 1
	mtuChkSegsTooBig  = 2
	_                 = mtuChkSegsTooBig
	mtuChkMaxArgBytes = 4
)

func init() {
	register(linux.FnCheckMtu, checkMTU)
}

func checkMTU(*impl) vm.Helper {
	const name = "bpf_check_mtu"
	return func(rc *vm.RunContext, _, ifindex, mtuLen, lenDiff, flags uint64) (uint64, error) {
		run, err := runOf(rc, name)
		if err != nil {
			return 0, err
		}
		if err := rc.CheckArg(mtuLen, mtuChkMaxArgBytes, true); err != nil {
			return 0, argErr(name, "mtu_len", err)
		}
		p := vm.Bytes(mtuLen, mtuChkMaxArgBytes)
		ne := binary.NativeEndian
		in := ne.Uint32(p)
		diff := int64(int32(lenDiff))
		var dev uint32
		var pktLen int64
		xdp := run.Program == linux.XDP
		switch {
		case xdp && run.Ctx != nil:
			x := (*linux.XDPContext)(run.Ctx)
			dev, pktLen = x.IngressIfindex, int64(x.DataEnd-x.Data)
		case run.Ctx != nil:
			s := (*linux.SKBContext)(run.Ctx)
			dev, pktLen = s.Ifindex, int64(s.Len)
		}
		if xdp {
			if flags != 0 {
				return ret(eINVAL), nil
			}
		} else if flags&^mtuChkSegs != 0 || flags&mtuChkSegs != 0 && (diff != 0 || in != 0) {
			ne.PutUint32(p, 0)
			return ret(eINVAL), nil
		}
		if ifindex != 0 {
			dev = uint32(ifindex)
		}
		l, ok := fibLinkOf(dev)
		if !ok {
			if !xdp {
				ne.PutUint32(p, 0)
			}
			return ret(eNODEV), nil
		}
		hdr := int64(fibHeaderLen(dev))
		if in != 0 {
			pktLen = int64(in) + hdr
		}
		r := int64(mtuChkSuccess)
		if pktLen+diff > int64(l.mtu)+hdr {
			// A GSO packet (tc) may still fit once segmented; bpfhost's
			// sk_buffs are never GSO.
			r = mtuChkFragNeeded
		}
		ne.PutUint32(p, l.mtu)
		return ret(r), nil
	}
}
