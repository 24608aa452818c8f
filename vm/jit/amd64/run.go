package amd64

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/bpfhost/bpfhost/vm"
)

// chunk is the most instructions the code runs between two visits to Go.
// Every chunk ends in a budget exit at a taken jump, call or return, where
// Go can preempt the goroutine and stop the world for the collector: a
// fraction of a millisecond of straight computation at most. Tests shrink
// it to resume from every kind of budget exit.
var chunk uint64 = 1 << 20

// errClosed is returned by runs of a closed executable.
var errClosed = errors.New("jit: executable is closed")

// Run executes the program. See vm.Executable.
func (e *executable) Run(rc *vm.RunContext) (uint64, error) {
	if e.mem == nil {
		return 0, errClosed
	}
	_, budget := rc.Begin(e.mode, e.zero)
	var cb *callbacks
	if e.funcs != nil {
		cb = &callbacks{e: e, rc: rc, budget: budget}
		rc.Call = cb.call
		defer func() { rc.Call = nil }()
	}
	if e.calls {
		var c callContext
		return e.run(rc, &c.context, 0, e.start, &rc.Args, budget, cb)
	}
	var c context
	return e.run(rc, &c, 0, e.start, &rc.Args, budget, cb)
}

// run drives the generated code from the code offset start at call depth
// base until that depth exits. The code runs until it needs Go: a helper,
// callx, a legacy packet load, a checked access outside the stack, the end
// of a budget chunk or the end of the run. Each exit names an exitInfo; run
// does the work and re-enters at the exit's resume point, where the code
// reloads every register from c. cb is the callback state of the outermost
// run of a program that has callbacks, nil otherwise.
func (e *executable) run(rc *vm.RunContext, c *context, base int, start int32, args *[5]uint64, budget uint64, cb *callbacks) (uint64, error) {
	stack := rc.Stack()
	top := stack.Top()
	if e.mode == vm.Checked {
		c.limit = [4]uint64{top - 1, top - 2, top - 4, top - 8}
	}
	// One word at a time: copying the array whole makes the compiler use
	// 16-byte moves, which stall on the 8-byte stores that just wrote
	// rc.Args (store forwarding fails across them), several ns a run.
	c.regs[1] = args[0]
	c.regs[2] = args[1]
	c.regs[3] = args[2]
	c.regs[4] = args[3]
	c.regs[5] = args[4]
	c.regs[10] = stack.FramePointer(base)
	c.depth, c.base = uint64(base), uint64(base)
	c.slot = uint64(int64(rc.Slot))
	rc.Depth = base
	// Instructions are charged against a chunk of the budget: the run has
	// executed charged + (size - c.budget) of them.
	charged, size := uint64(0), min(budget, chunk)
	c.budget = int64(size)
	c.resume = e.base + uintptr(start)
	entry := e.base + uintptr(e.entry)
	var x *exitInfo
	var n uint64
	var err error
	var state *runState // checked runs: the region table, made at the first exitCheck
	if e.mode == vm.Checked {
		state = reuse(c, rc) // or kept from an earlier run
	}
	for {
		enter(entry, unsafe.Pointer(c))
		x = &e.exits[c.exit]
		n = charged + uint64(int64(size)-c.budget)
		rc.Depth = int(c.depth)
		switch x.kind {
		case exitLookup:
			l := &e.lookups[x.arg]
			c.regs[0] = uint64(uintptr(l.elem.LookupPtr(vm.Bytes(c.regs[2], l.keySize), rc.Slot)))
		case exitReturn:
			rc.Executed = n + uint64(x.partial)
			return c.regs[0], nil
		case exitBudget:
			if n > budget {
				rc.Executed = n
				return 0, &vm.ExecError{PC: int(x.pc), Err: vm.ErrBudgetExceeded}
			}
			charged, size = n, min(budget-n, chunk)
			c.budget = int64(size)
		case exitHelper, exitCallx:
			var h vm.Helper
			if x.kind == exitHelper {
				h = e.helpers[x.arg]
			} else { // callx: the register holds a helper ID
				id := c.regs[x.arg]
				var ok bool
				h, ok = e.helperTable[int32(id)]
				if !ok || uint64(int32(id)) != id || h == nil {
					err = fmt.Errorf("%w %d (callx)", vm.ErrUnknownHelper, id)
					break
				}
			}
			if cb != nil {
				cb.used = n + uint64(x.partial)
			}
			if err = rc.EnterHelper(budget - min(budget, n+uint64(x.partial))); err != nil {
				break
			}
			c.regs[0], err = h(rc, c.regs[1], c.regs[2], c.regs[3], c.regs[4], c.regs[5])
			// Work the helper charged, and callbacks' instructions, count
			// against our budget.
			charged += rc.LeaveHelper()
			if cb != nil {
				charged += cb.used - (n + uint64(x.partial))
			}
			if c.regTab != 0 && !state.holds(rc.Regions) {
				c.regTab, c.regEnd, c.lastHit = 0, 0, 0 // refill at the next exitCheck
			}
			if err == nil && rc.TailCall != nil {
				if c.depth == 0 { // leave for vm.Run to continue with it
					rc.Executed = charged + uint64(int64(size)-c.budget) + uint64(x.partial)
					return 0, nil
				}
				// A deeper function returns the target's r0, run in
				// its place (vm/tailcall.go), as from an exit.
				used := charged + uint64(int64(size)-c.budget) + uint64(x.partial)
				r0, ran, terr := rc.TailCallInPlace(budget - min(budget, used))
				used += ran
				// The target's helpers may have changed the regions too.
				if c.regTab != 0 && !state.holds(rc.Regions) {
					c.regTab, c.regEnd, c.lastHit = 0, 0, 0
				}
				if terr != nil {
					rc.Executed = used
					return 0, terr
				}
				// The block up to the call is charged now, the budget
				// re-chunked from here.
				charged, size = used, min(budget-min(budget, used), chunk)
				c.budget = int64(size)
				c.regs[0] = r0
				if c.depth == c.base {
					rc.Executed = used
					return r0, nil
				}
				if used > budget {
					rc.Executed = used
					return 0, &vm.ExecError{PC: int(x.pc), Err: vm.ErrBudgetExceeded}
				}
				// Pop the frame as the code's return does, and continue
				// where it continues: at the return address.
				cc := (*callContext)(unsafe.Pointer(c))
				c.depth--
				f := &cc.frames[c.depth]
				c.regs[6], c.regs[7], c.regs[8], c.regs[9] = f.r6, f.r7, f.r8, f.r9
				c.regs[10] += vm.StackSize
				rc.Depth = int(c.depth)
				c.resume = e.base + uintptr(e.layout.retResume)
				continue
			}
		case exitCallDepth:
			err = fmt.Errorf("%w: more than %d nested calls", vm.ErrCallDepth, vm.MaxCallDepth)
		case exitPacket:
			off := int64(x.imm)
			if x.arg >= 0 {
				off += int64(int32(uint32(c.regs[x.arg])))
			}
			v, ok := vm.LoadPacket(rc.Packet, off, int(x.size))
			if !ok { // Linux ends the program with r0 = 0
				rc.Executed = n + uint64(x.partial)
				return 0, nil
			}
			c.regs[0] = v
		case exitProbe:
			c.regs[x.arg] = probed(rc, c.addr, x)
		case exitCheck:
			if x.atomic && c.addr%uint64(x.size) != 0 {
				err = fmt.Errorf("misaligned %d-byte atomic access at %#x", x.size, c.addr)
				break
			}
			err = rc.Check(c.addr, int(x.size), x.write)
			if c.regTab == 0 {
				if state == nil {
					state = stateOf(rc)
				}
				state.fillRegions(c, rc.Regions)
			}
		default:
			err = fmt.Errorf("jit: internal error: exit kind %d", x.kind)
		}
		if err != nil {
			rc.Executed = charged + uint64(int64(size)-c.budget) + uint64(x.partial)
			return 0, &vm.ExecError{PC: int(x.pc), Err: err}
		}
		c.resume = e.base + uintptr(x.resume)
	}
}

// callbacks runs the functions a program passes to helpers (bpf_loop,
// bpf_for_each_map_elem) through rc.Call, as the interpreter does: a call
// one frame below the helper's caller that shares the outermost run's
// budget.
type callbacks struct {
	e      *executable
	rc     *vm.RunContext
	budget uint64
	// used counts the outermost run's instructions up to the helper call
	// in progress, plus those of the callbacks that have finished.
	used uint64
}

func (cb *callbacks) call(fn, r1, r2, r3, r4, r5 uint64) (uint64, error) {
	e, rc := cb.e, cb.rc
	start, ok := e.funcs[int(min(fn, uint64(e.slots)))]
	if !ok {
		return 0, fmt.Errorf("callback %#x is not a function of the program", fn)
	}
	depth := rc.Depth + 1
	if depth > vm.MaxCallDepth {
		return 0, fmt.Errorf("%w: callback below %d nested calls", vm.ErrCallDepth, vm.MaxCallDepth)
	}
	// The work the calling helper charged so far is the outer run's.
	cb.used += rc.LeaveHelper()
	if cb.used >= cb.budget {
		return 0, vm.ErrBudgetExceeded
	}
	if err := rc.Canceled(); err != nil {
		return 0, err
	}
	if e.mode == vm.Checked || e.zeroCalls {
		rc.Stack().ClearFrame(depth)
	}
	saved := rc.Depth
	var c callContext
	args := [5]uint64{r1, r2, r3, r4, r5}
	r0, err := e.run(rc, &c.context, depth, start, &args, cb.budget-cb.used, nil)
	rc.Depth = saved
	cb.used += rc.Executed
	// The helper goes on charging against what is left.
	rc.EnterHelper(cb.budget - min(cb.budget, cb.used))
	return r0, err
}
