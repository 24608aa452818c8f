package verifier

import (
	"sort"
	"strings"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
)

// Calls of kernel functions (kfuncs). The loader names the function of each
// call (Options.Kfuncs); the ABI's kfunc table (platform.KfuncProto) gives
// its prototype. A name the table lacks is refused at every call, reachable
// or not, as libbpf refuses to load an object with an extern it cannot
// resolve; a __weak one (Options.WeakKfunc) only where the call is
// reachable, as Linux refuses the call libbpf leaves in its place. The
// only kfuncs bpfhost has are the number iterator's (iter.go).

// kfuncName names the kernel function the kfunc call at pc calls, or "".
func (e *exec) kfuncName(pc int) string {
	if e.a.opts.Kfuncs == nil {
		return ""
	}
	return e.a.opts.Kfuncs(pc)
}

// kfuncMissing is the message for a call of a kfunc the ABI lacks.
func (a *analyzer) kfuncMissing(name string) string {
	var have []string
	for _, k := range a.opts.ABI.Kfuncs() {
		have = append(have, k.Name)
	}
	sort.Strings(have)
	list := "none"
	if len(have) > 0 {
		list = strings.Join(have, ", ")
	}
	return "extern (func ksym) '" + name + "': not found in kernel or module BTFs: bpfhost has no kernel function " + name + " (its kfuncs: " + list + ")"
}

// checkKfuncNames reports every call of a kfunc that the ABI lacks and that
// is not declared __weak, reachable or not.
func (a *analyzer) checkKfuncNames() {
	for pc, ins := range a.prog {
		if ins.Opcode != isa.OpCall || ins.Src != isa.CallKfunc || a.opts.Kfuncs == nil {
			continue
		}
		name := a.opts.Kfuncs(pc)
		if _, ok := a.opts.ABI.KfuncByName(name); ok || name == "" {
			continue
		}
		if a.opts.WeakKfunc == nil || !a.opts.WeakKfunc(pc) {
			a.report(pc, "%s", a.kfuncMissing(name))
		}
	}
}

// kfunc checks a kfunc call against its prototype and applies its effects.
func (e *exec) kfunc(s *state, pc int) (*state, error) {
	name := e.kfuncName(pc)
	k, ok := e.a.opts.ABI.KfuncByName(name)
	switch {
	case name == "":
		e.fail(pc, "call of a kernel function (kfunc) the loader did not name: bpfhost binds kfuncs by name")
	case !ok && e.a.opts.WeakKfunc != nil && e.a.opts.WeakKfunc(pc):
		e.fail(pc, "call to kernel function %s, declared __weak, which bpfhost does not have: the call must be unreachable (libbpf leaves such a call in place, and Linux refuses it where it is reachable)", name)
	case !ok:
		e.fail(pc, "%s", e.a.kfuncMissing(name))
	case !k.AllowedFor(e.a.opts.Type.Type):
		e.fail(pc, "kernel function %s is not allowed in %s programs", name, e.a.opts.Type)
	}
	if !ok {
		e.clobberCall(s)
		s.set(0, value{kind: kScalar}, topIval)
		return s, nil
	}
	if s.lock {
		e.fail(pc, "kernel function %s is called while a bpf_spin_lock is held", name)
	}
	var slot iterSlot
	slotOK := false
	for i := 0; i < k.NumArgs(); i++ {
		r := i + 1
		if !e.readable(s, pc, r) {
			continue
		}
		switch a := k.Args[i]; a {
		case platform.ArgAnything:
			e.scalar(s, pc, r, name+" takes a number there")
		case platform.ArgUninitIterNum, platform.ArgIterNum:
			slot, slotOK = e.iterArg(s, pc, r, k, a == platform.ArgIterNum)
		default:
			e.fail(pc, "%s takes a %s argument in r%d, which bpfhost does not support", name, a, r)
		}
	}
	if slotOK {
		switch {
		case k.Args[0] == platform.ArgUninitIterNum:
			e.iterNew(s, pc, slot)
		case k.Ret == platform.RetIterNumOrNull:
			e.iterNext(s, pc, slot)
		case k.Release == 1:
			e.iterDestroy(s, pc, slot)
		}
	}
	e.clobberCall(s)
	switch k.Ret {
	case platform.RetInteger:
		s.set(0, value{kind: kScalar}, topIval)
	case platform.RetIterNumOrNull:
		if slotOK {
			e.iterNextResult(s, pc, slot)
		} else {
			s.set(0, value{kind: kScalar}, topIval)
		}
	case platform.RetVoid:
	default:
		e.fail(pc, "%s returns %s, which bpfhost does not support", name, k.Ret)
		s.set(0, value{kind: kScalar}, topIval)
	}
	return s, nil
}
