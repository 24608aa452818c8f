package verifier

// A BPF-to-BPF call's returns kept apart. A subprogram often returns an
// error code on some paths and a result on others, and writes through a
// pointer into its caller's frame only on the good ones (`if
// (!get_packet_dst(&dst, ...)) return XDP_DROP;` then dst is used:
// selftests' test_xdp_noinline.c, test_l4lb_noinline.c,
// test_tcp_custom_syncookie.c). Joining the exits makes the caller's slot
// "maybe NULL" or "part of a pointer" on every path; Linux returns each
// path to the caller on its own. When paths are kept apart (paths.go),
// the exits of a function called with BPF-to-BPF calls are partitioned as
// a block's input is (up to maxDisjuncts, by what joining them would lose
// in r0 and the callers' frames: the callee's own frame is dead), and the
// caller runs the rest of the calling block once per exit (runFrom). Each
// exit state is a sound description of the returns it stands for, and
// together they cover every return, so the analysis stays sound. The
// joined exit (run.exit) is kept as well: summaries, the first joined
// analysis and callers outside BPF-to-BPF calls use it.

// exitLive is what counts when exits are partitioned: r0, and no slot of
// the returning function's frame.
var exitLive = liveness{regs: 1}

// addExit records s, the state of the running function at an exit (or at
// a tail call taken in a subprogram, which returns from it), which the
// caller gives up: joined into run.exit and, for a BPF-to-BPF call with
// paths kept apart, partitioned into run.exits.
func (e *exec) addExit(s *state) {
	r := e.r
	if r.kind == callLocal && e.a.paths > 1 {
		// Not owned: run.exit may be s itself, which the partition must
		// not change (its joins make states of their own).
		r.exits, r.exitsFresh = partition(r.exits, r.exitsFresh, s, false, exitLive, e.a.paths)
	}
	if r.exit == nil {
		r.exit = s // the block's own state, which ends here
	} else {
		r.exit = join(r.exit, s, false, nil)
	}
}

// runForks runs each of the states ss, kept apart after the instruction
// before pc, through the rest of block v, and returns the states each
// edge gets from them all.
func (a *analyzer) runForks(r *run, v int, ss []*state, pc int) ([][]*state, error) {
	var all [][]*state
	for i, s := range ss {
		if s == nil {
			continue
		}
		if i > 0 {
			if err := a.charge(r.fn.blocks[v].end - pc); err != nil {
				return nil, err
			}
		}
		outs, err := a.runFrom(r, v, s, pc)
		if err != nil {
			return nil, err
		}
		all = appendEdges(all, outs)
	}
	return all, nil
}

// appendEdges adds the states of outs to those of all, edge by edge.
func appendEdges(all, outs [][]*state) [][]*state {
	for len(all) < len(outs) {
		all = append(all, nil)
	}
	for j, o := range outs {
		for _, st := range o {
			if st != nil {
				all[j] = append(all[j], st)
			}
		}
	}
	return all
}

// statesBytes is the memory of states.
func statesBytes(ss []*state) int64 {
	var n int64
	for _, s := range ss {
		n += stateBytes(s)
	}
	return n
}
