package xdp

import (
	"fmt"

	"github.com/bpfhost/bpfhost"
)

// target resolves an XDP_REDIRECT to an interface (bpf_redirect, a devmap
// or devmap_hash entry): the attached interface it goes to (nil: none) and
// the entry's program. The index is in the namespace of in, the interface
// the frame came in on.
func target(r *bpfhost.XDPRedirect, slot int, in *iface) (*iface, *bpfhost.Program, error) {
	index, prog, ok, err := r.DevMapTarget(slot)
	if !ok {
		return nil, nil, err
	}
	v, ok := in.ns.ifaces.Load(int(index))
	if !ok {
		return nil, nil, nil
	}
	return v.(*iface), prog, nil
}

// broadcast queues frame for every interface of a devmap
// (BPF_F_BROADCAST), but the one it came in on with BPF_F_EXCLUDE_INGRESS;
// an entry's program runs on a copy of its own.
func (wk *worker) broadcast(r *bpfhost.XDPRedirect, frame int, in *iface, slot int) {
	// The destinations are gathered first: programs run outside the walk.
	var ok bool
	if wk.bcast, ok = r.AppendDevMapEntries(wk.bcast[:0], slot); !ok {
		wk.redirectError(in, r.Ifindex)
		return
	}
	for _, d := range wk.bcast {
		if r.Flags&flagExcludeIngress != 0 && int(d.Ifindex) == in.index {
			continue
		}
		v, ok := in.ns.ifaces.Load(int(d.Ifindex))
		if !ok || d.Err != nil {
			wk.redirectError(in, d.Ifindex)
			continue
		}
		ifc := v.(*iface)
		if d.Program == nil {
			wk.queueTo(ifc, frame)
		} else if e := wk.runEgress(frame, ifc, d.Program, true); e >= 0 {
			wk.queueTo(ifc, e)
		}
	}
	clear(wk.bcast)
}

// frameAt returns frame idx of the batch, or past the batch, egress copy
// idx-len(frames).
func (wk *worker) frameAt(idx int) *bpfhost.XDPFrame {
	if idx < len(wk.frames) {
		return &wk.frames[idx]
	}
	return &wk.egress[idx-len(wk.frames)]
}

// runEgress runs a devmap entry's program on frame idx as it leaves on ifc
// (egress_ifindex), in place or, for a broadcast, on a copy, as Linux's
// dev_map_bpf_prog_run: XDP_PASS sends the frame, XDP_DROP drops it, any
// other action is traced and dropped. It returns the index of the frame to
// send, or -1.
func (wk *worker) runEgress(idx int, ifc *iface, prog *bpfhost.Program, copyFirst bool) int {
	if copyFirst {
		if wk.egressUsed == len(wk.egress) {
			wk.c.txErrors.Add(1)
			wk.l.traceLine(fmt.Sprintf("xdp: broadcast to %s: more than %d copies in a batch", ifc.name, len(wk.egress)))
			return -1
		}
		e := len(wk.frames) + wk.egressUsed
		wk.egressUsed++
		copyFrame(wk.frameAt(e), wk.frameAt(idx))
		idx = e
	}
	var one []bpfhost.XDPFrame
	if idx < len(wk.frames) {
		one = wk.frames[idx : idx+1]
	} else {
		one = wk.egress[idx-len(wk.frames) : idx-len(wk.frames)+1]
	}
	f := &one[0]
	f.EgressIfindex = uint32(ifc.index)
	_, err := prog.RunXDPBatch(one)
	f.EgressIfindex = 0
	if err != nil {
		wk.l.traceLine(fmt.Sprintf("xdp: devmap program: %v", err))
		return -1
	}
	wk.c.countDevMap(f.Action, f.End-f.Data, f.Duration)
	switch f.Action {
	case Pass:
		return idx
	case Drop:
	case Aborted:
		msg := "XDP_ABORTED"
		if f.Err != nil {
			msg = f.Err.Error()
		}
		wk.l.traceLine(fmt.Sprintf("xdp_exception: devmap prog=%s action=XDP_ABORTED ifindex=%d: %s", prog.Name(), ifc.index, msg))
	default:
		wk.l.traceLine(fmt.Sprintf("xdp_exception: devmap prog=%s action=%d (invalid) ifindex=%d", prog.Name(), f.Action, ifc.index))
	}
	return -1
}
