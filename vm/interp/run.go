package interp

import (
	"fmt"
	"sync/atomic"

	"github.com/bpfhost/bpfhost/vm"
)

type frame struct {
	ret            int
	r6, r7, r8, r9 uint64
}

// Run executes the program. See vm.Executable.
//
// The hot loop (hot.go) runs most instructions; Run is the driver that sets
// up the machine and executes, one at a time, the instructions the hot loop
// hands back. The instruction budget is charged once per straight-line run,
// when control leaves it (a taken jump, a call, an exit), so that counting
// costs nothing on instructions that do not branch; the count is exact.
func (e *executable) Run(rc *vm.RunContext) (uint64, error) {
	if rc.Trace != nil && e.trace == nil {
		return e.traced(rc.Trace).Run(rc)
	}
	stack, budget := rc.Begin(e.mode, e.zero)
	m, ok := rc.EngineState.(*machine)
	if !ok {
		m = new(machine)
		rc.EngineState = m
	}
	*m = machine{}
	m.r[1], m.r[2], m.r[3], m.r[4], m.r[5] = rc.Args[0], rc.Args[1], rc.Args[2], rc.Args[3], rc.Args[4]
	m.r[10] = stack.FramePointer(0)
	m.hi = stack.Top()
	m.lo = m.hi - vm.StackSize
	if len(e.funcs) > 0 {
		rc.Call = func(fn, r1, r2, r3, r4, r5 uint64) (uint64, error) {
			return e.callback(rc, m, budget, fn, [5]uint64{r1, r2, r3, r4, r5})
		}
		defer func() { rc.Call = nil }()
	}
	return e.loop(rc, m, 0, budget)
}

// callback runs the function at slot fn for a helper (bpf_loop, ...) as a
// call one frame below the helper's caller, and charges its instructions to
// the outer machine.
func (e *executable) callback(rc *vm.RunContext, outer *machine, budget uint64, fn uint64, args [5]uint64) (uint64, error) {
	if fn >= uint64(len(e.code)) || !e.funcs[int(fn)] {
		return 0, fmt.Errorf("callback %#x is not a function of the program", fn)
	}
	depth := rc.Depth + 1
	if depth > vm.MaxCallDepth {
		return 0, fmt.Errorf("%w: callback below %d nested calls", vm.ErrCallDepth, vm.MaxCallDepth)
	}
	// The work the calling helper charged so far is the outer run's.
	outer.n += rc.LeaveHelper()
	used := outer.n + uint64(outer.pc-outer.start)
	if used >= budget {
		return 0, vm.ErrBudgetExceeded
	}
	if err := rc.Canceled(); err != nil {
		return 0, err
	}
	stack := rc.Stack()
	if e.mode == vm.Checked || e.zeroCalls {
		stack.ClearFrame(depth)
	}
	m := &machine{pc: int(fn), start: int(fn)}
	m.r[1], m.r[2], m.r[3], m.r[4], m.r[5] = args[0], args[1], args[2], args[3], args[4]
	m.r[10] = stack.FramePointer(depth)
	m.hi = outer.hi
	m.lo = m.hi - uint64(depth+1)*vm.StackSize
	saved := rc.Depth
	r0, err := e.loop(rc, m, depth, budget-used)
	rc.Depth = saved
	outer.n += rc.Executed
	// The helper goes on charging against what is left.
	rc.EnterHelper(budget - min(budget, outer.n+uint64(outer.pc-outer.start)))
	return r0, err
}

// loop is the driver: it runs the hot loop and executes the instructions it
// hands back, until the function at call depth base exits. Like hot, it is
// not instrumented by the race detector.
//
//go:norace
func (e *executable) loop(rc *vm.RunContext, m *machine, base int, budget uint64) (uint64, error) {
	stack := rc.Stack()
	checked := e.mode == vm.Checked
	clearCalls := checked || e.zeroCalls // vm.CallFramesZeroed
	var frames [vm.MaxCallDepth]frame
	depth := base
	rc.Depth = depth
	at := 0 // the instruction the driver is executing
	fail := func(err error) (uint64, error) {
		rc.Executed = m.n + uint64(at+1-m.start)
		return 0, &vm.ExecError{PC: at, Err: err}
	}
	budgetExceeded := func() (uint64, error) {
		rc.Executed = m.n
		return 0, &vm.ExecError{PC: at, Err: vm.ErrBudgetExceeded}
	}
	r := &m.r
	for {
		var res int
		if e.trace == nil {
			res = e.hot(m, budget, checked)
		} else {
			res = e.step(m, budget, checked)
		}
		if res == hotBudget {
			at = m.pc
			return budgetExceeded()
		}
		if res == hotStepped {
			continue
		}
		at = m.pc
		in := &e.code[at]
		m.pc++
	dispatch:
		switch in.op {
		case ldx | mem | w:
			a := r[in.src&15] + uint64(in.off)
			if checked {
				if err := rc.Check(a, 4, false); err != nil {
					return fail(err)
				}
			}
			r[in.dst&15] = uint64(*(*uint32)(vm.Pointer(a)))
		case ldx | mem | h:
			a := r[in.src&15] + uint64(in.off)
			if checked {
				if err := rc.Check(a, 2, false); err != nil {
					return fail(err)
				}
			}
			r[in.dst&15] = uint64(*(*uint16)(vm.Pointer(a)))
		case ldx | mem | b:
			a := r[in.src&15] + uint64(in.off)
			if checked {
				if err := rc.Check(a, 1, false); err != nil {
					return fail(err)
				}
			}
			r[in.dst&15] = uint64(*(*uint8)(vm.Pointer(a)))
		case ldx | mem | dw:
			a := r[in.src&15] + uint64(in.off)
			if checked {
				if err := rc.Check(a, 8, false); err != nil {
					return fail(err)
				}
			}
			r[in.dst&15] = *(*uint64)(vm.Pointer(a))
		case ldx | memsx | w:
			a := r[in.src&15] + uint64(in.off)
			if checked {
				if err := rc.Check(a, 4, false); err != nil {
					return fail(err)
				}
			}
			r[in.dst&15] = uint64(int64(*(*int32)(vm.Pointer(a))))
		case ldx | memsx | h:
			a := r[in.src&15] + uint64(in.off)
			if checked {
				if err := rc.Check(a, 2, false); err != nil {
					return fail(err)
				}
			}
			r[in.dst&15] = uint64(int64(*(*int16)(vm.Pointer(a))))
		case ldx | memsx | b:
			a := r[in.src&15] + uint64(in.off)
			if checked {
				if err := rc.Check(a, 1, false); err != nil {
					return fail(err)
				}
			}
			r[in.dst&15] = uint64(int64(*(*int8)(vm.Pointer(a))))
		case st | mem | w, stx | mem | w:
			a := r[in.dst&15] + uint64(in.off)
			if checked {
				if err := rc.Check(a, 4, true); err != nil {
					return fail(err)
				}
			}
			v := uint64(in.imm)
			if in.op&0x07 == stx {
				v = r[in.src&15]
			}
			*(*uint32)(vm.Pointer(a)) = uint32(v)
		case st | mem | h, stx | mem | h:
			a := r[in.dst&15] + uint64(in.off)
			if checked {
				if err := rc.Check(a, 2, true); err != nil {
					return fail(err)
				}
			}
			v := uint64(in.imm)
			if in.op&0x07 == stx {
				v = r[in.src&15]
			}
			*(*uint16)(vm.Pointer(a)) = uint16(v)
		case st | mem | b, stx | mem | b:
			a := r[in.dst&15] + uint64(in.off)
			if checked {
				if err := rc.Check(a, 1, true); err != nil {
					return fail(err)
				}
			}
			v := uint64(in.imm)
			if in.op&0x07 == stx {
				v = r[in.src&15]
			}
			*(*uint8)(vm.Pointer(a)) = uint8(v)
		case st | mem | dw, stx | mem | dw:
			a := r[in.dst&15] + uint64(in.off)
			if checked {
				if err := rc.Check(a, 8, true); err != nil {
					return fail(err)
				}
			}
			v := uint64(in.imm)
			if in.op&0x07 == stx {
				v = r[in.src&15]
			}
			*(*uint64)(vm.Pointer(a)) = v
		case stx | atom | w:
			a := r[in.dst&15] + uint64(in.off)
			if checked {
				if err := checkAtomic(rc, a, 4); err != nil {
					return fail(err)
				}
			}
			atomic32(r, in, (*uint32)(vm.Pointer(a)))
		case stx | atom | dw:
			a := r[in.dst&15] + uint64(in.off)
			if checked {
				if err := checkAtomic(rc, a, 8); err != nil {
					return fail(err)
				}
			}
			atomic64(r, in, (*uint64)(vm.Pointer(a)))
		case ldx | abs | w, ldx | abs | h, ldx | abs | b, ldx | abs | dw, ldx | ind | w, ldx | ind | h, ldx | ind | b:
			r[in.dst&15] = probe(rc, in.op, r[in.src&15]+uint64(in.off))
		case ld | abs | w, ld | abs | h, ld | abs | b, ld | ind | w, ld | ind | h, ld | ind | b:
			off := in.imm
			if in.op&0xe0 == ind {
				off += int64(int32(uint32(r[in.src&15])))
			}
			v, ok := vm.LoadPacket(rc.Packet, off, packetLoadSize(in.op))
			if !ok { // Linux ends the program with r0 = 0
				rc.Executed = m.n + uint64(m.pc-m.start)
				return 0, nil
			}
			r[0] = v
		case jmp | 0x80, jmp | x | 0x80: // helper; callx: the register holds a helper ID
			var hf vm.Helper
			if in.op == jmp|0x80 {
				hf = e.helpers[in.off]
			} else {
				id := r[in.dst&15]
				var ok bool
				hf, ok = e.helperTable[int32(id)]
				if !ok || uint64(int32(id)) != id || hf == nil {
					return fail(fmt.Errorf("%w %d (callx)", vm.ErrUnknownHelper, id))
				}
			}
			rc.Depth = depth
			if err := rc.EnterHelper(budget - min(budget, m.n+uint64(m.pc-m.start))); err != nil {
				return fail(err)
			}
			v, err := hf(rc, r[1], r[2], r[3], r[4], r[5])
			m.n += rc.LeaveHelper()
			if err != nil {
				return fail(err)
			}
			r[0] = v
			if rc.TailCall != nil {
				if depth == 0 { // leave for vm.Run to continue with it
					rc.Executed = m.n + uint64(m.pc-m.start)
					return 0, nil
				}
				if r[0], err = e.tailCallInPlace(rc, m, budget); err != nil {
					return 0, err
				}
				in = &exitInsn // the function returns the target's r0
				goto dispatch
			}
		case opCallLoc:
			if depth == vm.MaxCallDepth {
				return fail(fmt.Errorf("%w: more than %d nested calls", vm.ErrCallDepth, vm.MaxCallDepth))
			}
			frames[depth] = frame{ret: m.pc, r6: r[6], r7: r[7], r8: r[8], r9: r[9]}
			depth++
			rc.Depth = depth
			r[10] = stack.FramePointer(depth)
			if clearCalls {
				stack.ClearFrame(depth)
			}
			m.lo = m.hi - uint64(depth+1)*vm.StackSize
			if !m.transfer(int(in.off), budget) {
				return budgetExceeded()
			}
		case jmp | 0x90: // exit
			if depth == base {
				rc.Executed = m.n + uint64(m.pc-m.start)
				return r[0], nil
			}
			depth--
			rc.Depth = depth
			f := &frames[depth]
			r[6], r[7], r[8], r[9] = f.r6, f.r7, f.r8, f.r9
			r[10] = stack.FramePointer(depth)
			m.lo = m.hi - uint64(depth+1)*vm.StackSize
			if !m.transfer(f.ret, budget) {
				return budgetExceeded()
			}
		default:
			return fail(fmt.Errorf("%w: opcode %#02x", vm.ErrUnsupported, in.op))
		}
	}
}

// exitInsn is an exit, which a function executes after a tail call run in
// its place.
var exitInsn = insn{op: jmp | 0x90}

// tailCallInPlace runs the tail call a helper asked for in a function
// deeper than the main one, in that function's place (vm/tailcall.go),
// charging its instructions to m, and returns its r0.
func (e *executable) tailCallInPlace(rc *vm.RunContext, m *machine, budget uint64) (uint64, error) {
	v, n, err := rc.TailCallInPlace(budget - min(budget, m.n+uint64(m.pc-m.start)))
	m.n += n
	if err != nil {
		rc.Executed = m.n + uint64(m.pc-m.start)
	}
	return v, err
}

// transfer charges the current straight-line run to the budget and moves
// control to target. It reports false when the budget is exhausted.
func (m *machine) transfer(target int, budget uint64) bool {
	m.n += uint64(m.pc - m.start)
	if m.n > budget {
		return false
	}
	m.pc, m.start = target, target
	return true
}

// checkAtomic validates an atomic access: in bounds, writable and aligned
// (unaligned atomics fault on some hosts, and Linux rejects them).
func checkAtomic(rc *vm.RunContext, a uint64, size int) error {
	if a%uint64(size) != 0 {
		return fmt.Errorf("misaligned %d-byte atomic access at %#x", size, a)
	}
	return rc.Check(a, size, true)
}

func atomic64(r *[16]uint64, in *insn, p *uint64) error {
	src := r[in.src&15]
	switch int32(in.imm) {
	case 0x00:
		atomic.AddUint64(p, src)
	case 0x01:
		r[in.src&15] = atomic.AddUint64(p, src) - src
	case 0x40:
		atomic.OrUint64(p, src)
	case 0x41:
		r[in.src&15] = atomic.OrUint64(p, src)
	case 0x50:
		atomic.AndUint64(p, src)
	case 0x51:
		r[in.src&15] = atomic.AndUint64(p, src)
	case 0xa0, 0xa1:
		for {
			old := atomic.LoadUint64(p)
			if atomic.CompareAndSwapUint64(p, old, old^src) {
				if in.imm&1 != 0 {
					r[in.src&15] = old
				}
				break
			}
		}
	case 0xe1:
		r[in.src&15] = atomic.SwapUint64(p, src)
	case 0xf1:
		want := r[0]
		for {
			old := atomic.LoadUint64(p)
			if old != want || atomic.CompareAndSwapUint64(p, old, src) {
				r[0] = old
				break
			}
		}
	default:
		return fmt.Errorf("%w: atomic operation %#x", vm.ErrUnsupported, in.imm)
	}
	return nil
}

func atomic32(r *[16]uint64, in *insn, p *uint32) error {
	src := uint32(r[in.src&15])
	switch int32(in.imm) {
	case 0x00:
		atomic.AddUint32(p, src)
	case 0x01:
		r[in.src&15] = uint64(atomic.AddUint32(p, src) - src)
	case 0x40:
		atomic.OrUint32(p, src)
	case 0x41:
		r[in.src&15] = uint64(atomic.OrUint32(p, src))
	case 0x50:
		atomic.AndUint32(p, src)
	case 0x51:
		r[in.src&15] = uint64(atomic.AndUint32(p, src))
	case 0xa0, 0xa1:
		for {
			old := atomic.LoadUint32(p)
			if atomic.CompareAndSwapUint32(p, old, old^src) {
				if in.imm&1 != 0 {
					r[in.src&15] = uint64(old)
				}
				break
			}
		}
	case 0xe1:
		r[in.src&15] = uint64(atomic.SwapUint32(p, src))
	case 0xf1:
		want := uint32(r[0])
		for {
			old := atomic.LoadUint32(p)
			if old != want || atomic.CompareAndSwapUint32(p, old, src) {
				r[0] = uint64(old)
				break
			}
		}
	default:
		return fmt.Errorf("%w: atomic operation %#x", vm.ErrUnsupported, in.imm)
	}
	return nil
}

// packetLoadSize is the width of a legacy packet load's opcode.
func packetLoadSize(op uint8) int {
	switch op & 0x18 {
	case h:
		return 2
	case b:
		return 1
	}
	return 4
}
