package helpers

import (
	"fmt"
	"unsafe"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// Caller runs a BPF function of the running program as a callback, for
// bpf_loop and bpf_for_each_map_elem. fn is the value the program passed
// for the callback: what its lddw with src 4 (isa.PseudoFunc) loaded, which
// only the engine interprets. The call behaves as a BPF-to-BPF call from
// the frame that called the helper: a new stack frame at call depth
// rc.Depth+1, r1..r5 as given, r0 returned; its instructions count against
// the run's budget, and a fault or an exhausted budget comes back as the
// error. *vm.RunContext is a Caller (engines set rc.Call); Run.Call
// overrides it.
type Caller interface {
	CallFunc(fn, r1, r2, r3, r4, r5 uint64) (uint64, error)
}

var _ Caller = (*vm.RunContext)(nil)

// callerOf returns what runs callbacks for this run.
func callerOf(rc *vm.RunContext) Caller {
	if run, ok := rc.Value.(*Run); ok && run != nil && run.Call != nil {
		return run.Call
	}
	return rc
}

// maxLoops is BPF_MAX_LOOPS, the most iterations bpf_loop takes.
const maxLoops = 1 << 23

func init() {
	register(linux.FnLoop, loop)
	register(linux.FnForEachMapElem, forEachMapElem)
}

// loop is bpf_loop(nr_loops, callback_fn, callback_ctx, flags): it calls
// callback_fn(i, callback_ctx) for i = 0, 1, ... until nr_loops calls or
// one returns non-zero, and returns the number of calls.
func loop(*impl) vm.Helper {
	const name = "bpf_loop"
	return func(rc *vm.RunContext, n, fn, ctx, flags, _ uint64) (uint64, error) {
		n = uint64(uint32(n))
		if flags != 0 {
			return ret(eINVAL), nil
		}
		if n > maxLoops {
			return ret(e2BIG), nil
		}
		if n == 0 {
			return 0, nil
		}
		call := callerOf(rc)
		for i := uint64(0); i < n; i++ {
			if err := rc.Charge(1); err != nil { // the iteration itself
				return 0, fmt.Errorf("%s: iteration %d: %w", name, i, err)
			}
			r, err := call.CallFunc(fn, i, ctx, 0, 0, 0)
			if err != nil {
				return 0, fmt.Errorf("%s: callback: %w", name, err)
			}
			if r != 0 {
				return i + 1, nil
			}
		}
		return n, nil
	}
}

// forEachMapElem is bpf_for_each_map_elem(map, callback_fn, callback_ctx,
// flags): it calls callback_fn(map, key, value, callback_ctx) for each
// element (the run slot's value for per-CPU maps) until one returns
// non-zero, and returns the number of calls.
func forEachMapElem(h *impl) vm.Helper {
	const name = "bpf_for_each_map_elem"
	return func(rc *vm.RunContext, mp, fn, ctx, flags, _ uint64) (uint64, error) {
		m, err := h.mapOf(rc, mp, name)
		if m == nil {
			return ret(eINVAL), err
		}
		em, ok := m.(maps.ElemMap)
		if !ok {
			return wrongMap(rc, name, m, eINVAL)
		}
		if flags != 0 {
			return ret(eINVAL), nil
		}
		call := callerOf(rc)
		ks, vs := h.sizes.sizes(m)
		// Checked runs may only touch registered memory: each element's
		// key and value become regions while the callback runs. (Values
		// are normally registered already; keys live in map internals.)
		saved := rc.Regions
		var elem []vm.Region
		if rc.Mode == vm.Checked {
			regs := make([]vm.Region, len(saved)+2)
			copy(regs, saved)
			elem = regs[len(saved):]
			rc.Regions = regs
			defer func() { rc.Regions = saved }()
		}
		writable := m.Spec().Flags&maps.FlagRdOnlyProg == 0
		var cbErr, chargeErr error
		// Each element visited, and each empty bucket of a hash, is work.
		charge := func(units uint64) bool {
			chargeErr = rc.Charge(units)
			return chargeErr == nil
		}
		visit := func(k, v unsafe.Pointer) bool {
			if !charge(1) {
				return false
			}
			if elem != nil {
				elem[0] = vm.Region{Start: uintptr(k), Size: uintptr(ks), Name: "map key"}
				elem[1] = vm.Region{Start: uintptr(v), Size: uintptr(vs), Writable: writable, Name: "map value"}
			}
			r, err := call.CallFunc(fn, mp, valueAddr(k), valueAddr(v), ctx, 0)
			if err != nil {
				cbErr = err
				return false
			}
			return r == 0
		}
		var n int64
		if hm, ok := em.(*maps.HashMap); ok {
			n = hm.ForEachCharged(rc.Slot, charge, visit)
		} else {
			n = em.ForEach(rc.Slot, visit)
		}
		if chargeErr != nil {
			return 0, fmt.Errorf("%s: after %d elements: %w", name, n, chargeErr)
		}
		if cbErr != nil {
			return 0, fmt.Errorf("%s: callback: %w", name, cbErr)
		}
		return ret(n), nil
	}
}
