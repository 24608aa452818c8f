package oracle

import (
	"slices"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// Tracker follows a traced run step by step and keeps what the containment
// check reads besides registers and memory: which bytes of each live stack
// frame the run has written since the frame was entered, and which ring
// buffer records, sockets and spin lock it holds, with the helper call that
// acquired each. Call Step before every instruction (from
// vm.RunContext.Trace); it reports helper calls as they return and tail
// calls as they are taken.
//
// Stack writes are seen two ways. A store instruction names its address,
// which Step reads from the registers. A helper's output buffer (an
// argument the helper fills: uninit_mem, long, int, a map value buffer of
// the map's value size) is filled with random non-zero bytes where the run
// has not written yet before the call, and counts as written after it if
// any of its bytes changed: a helper that fails without writing leaves it
// as filled. A buffer left so gets back the bytes it held before the fill,
// so that the run goes on as it would untraced: a program whose helpers
// may read unwritten bytes of its frames as zeroes
// (verifier.Result.ZeroEntryFrame, ZeroCallFrames) still reads zeroes
// there, and its
// buffers are checked like any other.
type Tracker struct {
	// Mem is the run's memory. Step adds the records that
	// bpf_ringbuf_reserve hands out to Mem.Records and removes the ones
	// released.
	Mem *Memory
	// Insns are the instructions of the running program.
	Insns []isa.Instruction
	// Helper returns a helper's prototype.
	Helper func(platform.HelperID) (*platform.HelperProto, bool)
	// ValueSize returns the value size of the map an lddw loaded as
	// handle, for helpers that fill a map value buffer; nil or false: only
	// the buffer's first byte is filled and counted.
	ValueSize func(handle uint64) (int, bool)

	written [vm.StackFrames][8]uint64
	live    int // frames live after the previous step (depth of the deepest)
	calls   [vm.StackFrames]pendingCall
	store   struct {
		addr uint64
		size int
		on   bool
	}
	records []Record
	sockets []Socket
	lock    uint64
	rng     uint64
	// outer keeps the frames of the programs whose subprograms'
	// tail calls are running (Nest).
	outer []trackedFrames
}

// trackedFrames is what a Tracker knows of one program's frames.
type trackedFrames struct {
	written [vm.StackFrames][8]uint64
	live    int
	calls   [vm.StackFrames]pendingCall
}

// Nest starts following the target of a tail call made in a subprogram,
// which runs in place of the subprogram on a stack of its own
// (vm.RunContext.TailNesting counts them): its frames start unwritten,
// and the caller's are kept for Unnest. What the run holds stays, and a
// tail call holds nothing.
func (t *Tracker) Nest() {
	t.outer = append(t.outer, trackedFrames{written: t.written, live: t.live, calls: t.calls})
	t.written, t.live, t.calls = [vm.StackFrames][8]uint64{}, 0, [vm.StackFrames]pendingCall{}
}

// Unnest returns to the frames of the program whose subprogram's tail call
// Nest followed, as the target has returned to the subprogram's caller.
func (t *Tracker) Unnest() {
	if len(t.outer) == 0 {
		return
	}
	f := &t.outer[len(t.outer)-1]
	t.written, t.live, t.calls = f.written, f.live, f.calls
	t.outer = t.outer[:len(t.outer)-1]
}

// Record is a ring buffer record a run holds.
type Record struct {
	Start, Size uint64
	// Site is the bpf_ringbuf_reserve call that reserved it and Depth the
	// call depth it ran at.
	Site, Depth int
}

// Socket is a socket a run's lookup returned and the run has not released.
type Socket struct {
	// Start is the socket's address, what the lookup returned.
	Start uint64
	// Site is the lookup call and Depth the call depth it ran at.
	Site, Depth int
}

// Return describes a helper call that has returned.
type Return struct {
	// PC is the call instruction; ID the helper.
	PC int
	ID platform.HelperID
	// Args are r1 to r5 at the call; R0 is the result.
	Args [5]uint64
	R0   uint64
}

// pendingCall is a helper call at one depth that has not returned yet.
type pendingCall struct {
	on   bool
	pc   int
	id   platform.HelperID
	args [5]uint64
	outs []outBuf
}

// outBuf is a helper's output buffer on the stack: what it held (orig)
// and what it was filled with before the call (before).
type outBuf struct {
	addr         uint64
	orig, before []byte
}

// Step follows the run to the instruction at pc at call depth depth, with
// registers regs. It returns the helper call that returned since the
// previous step, if any, and whether a tail call was taken (the caller
// sets Insns to the new program's first).
func (t *Tracker) Step(pc int, regs *[11]uint64, depth int) (ret *Return, tail bool) {
	if t.store.on {
		t.markWritten(t.store.addr, t.store.size)
		t.store.on = false
	}
	if depth < 0 || depth >= len(t.calls) {
		return nil, false
	}
	// A call at this depth returns here, unless the frame ended since.
	if p := &t.calls[depth]; p.on && depth <= t.live {
		p.on = false
		switch {
		case pc == p.pc+1:
			ret = t.returned(p, regs, depth)
		case depth == 0 && p.id == linux.FnTailCall:
			// The program ended at the call; the target starts.
			tail = true
			t.written[0] = [8]uint64{}
		}
	}
	for d := t.live + 1; d <= depth; d++ {
		t.written[d] = [8]uint64{}
		t.calls[d].on = false
	}
	t.live = depth
	if pc < 0 || pc >= len(t.Insns) {
		return ret, tail
	}
	ins := t.Insns[pc]
	switch cls := ins.Opcode.Class(); {
	case ins.IsExit() && depth > 0:
		t.live = depth - 1
	case cls == isa.ClassST || cls == isa.ClassSTX:
		t.store.addr = regs[ins.Dst] + uint64(int64(ins.Offset))
		t.store.size = ins.Opcode.Size().Bytes()
		t.store.on = true
	case ins.Opcode == isa.OpCall && ins.Src == isa.CallHelper:
		t.call(&t.calls[depth], pc, platform.HelperID(ins.Imm), regs)
	case ins.Opcode == isa.OpCall && ins.Src == isa.CallKfunc:
		t.kfunc(ins, regs)
	}
	return ret, tail
}

// kfunc notes what a kfunc call writes in the stack: an iterator's 8
// bytes (bpf_iter_num_new fills them; next and destroy rewrite them).
func (t *Tracker) kfunc(ins isa.Instruction, regs *[11]uint64) {
	k, ok := linux.ABI().KfuncByID(platform.KfuncID(ins.Imm))
	if !ok || (k.Args[0] != platform.ArgUninitIterNum && k.Args[0] != platform.ArgIterNum) {
		return
	}
	if _, off, ok := t.frameOf(regs[1]); ok && off+8 <= vm.StackSize {
		t.markWritten(regs[1], 8)
	}
}

// call notes a helper call and fills its output buffers.
func (t *Tracker) call(p *pendingCall, pc int, id platform.HelperID, regs *[11]uint64) {
	*p = pendingCall{on: true, pc: pc, id: id, outs: p.outs[:0]}
	copy(p.args[:], regs[1:6])
	if t.Helper == nil {
		return
	}
	proto, ok := t.Helper(id)
	if !ok {
		return
	}
	var mapArg uint64
	for i := 0; i < proto.NumArgs(); i++ {
		addr := regs[i+1]
		size := -1
		switch proto.Args[i] {
		case platform.ArgConstMapPtr:
			mapArg = addr
		case platform.ArgUninitMem, platform.ArgWritableMemOrNull:
			if i+1 < 5 {
				size = int(min(regs[i+2], vm.StackSize))
			}
		case platform.ArgLong:
			size = 8
		case platform.ArgInt:
			size = 4
		case platform.ArgUninitMapValue:
			size = 1
			if t.ValueSize != nil {
				if n, ok := t.ValueSize(mapArg); ok {
					size = n
				}
			}
		}
		if size <= 0 {
			continue
		}
		d, off, ok := t.frameOf(addr)
		if !ok || off+size > vm.StackSize {
			continue
		}
		buf := t.frameBytes(d)[off : off+size]
		orig := append([]byte(nil), buf...)
		for j := range buf {
			if !t.isWritten(d, off+j) {
				buf[j] = t.poison()
			}
		}
		p.outs = append(p.outs, outBuf{addr: addr, orig: orig, before: append([]byte(nil), buf...)})
	}
}

// returned applies what a helper call did when it returned.
func (t *Tracker) returned(p *pendingCall, regs *[11]uint64, depth int) *Return {
	ret := &Return{PC: p.pc, ID: p.id, Args: p.args, R0: regs[0]}
	for _, o := range p.outs {
		d, off, ok := t.frameOf(o.addr)
		if !ok {
			continue
		}
		now := t.frameBytes(d)[off : off+len(o.before)]
		if slices.Equal(now, o.before) {
			copy(now, o.orig) // unwritten: as the run left it
			continue
		}
		t.markWritten(o.addr, len(o.before))
	}
	switch p.id {
	case linux.FnRingbufReserve:
		if regs[0] != 0 {
			t.records = append(t.records, Record{Start: regs[0], Size: p.args[1], Site: p.pc, Depth: depth})
			if t.Mem != nil {
				t.Mem.AddRecord(regs[0], p.args[1])
			}
		}
	case linux.FnRingbufSubmit, linux.FnRingbufDiscard:
		// A released record is no element any more: a pointer into it
		// that the verifier still deems valid is a violation.
		gone := func(r Record) bool { return r.Start == p.args[0] }
		t.records = slices.DeleteFunc(t.records, gone)
		if t.Mem != nil {
			t.Mem.Records = slices.DeleteFunc(t.Mem.Records, func(e Element) bool { return e.Start == p.args[0] })
		}
	case linux.FnSkLookupTcp, linux.FnSkLookupUdp, linux.FnSkcLookupTcp:
		if regs[0] != 0 {
			t.sockets = append(t.sockets, Socket{Start: regs[0], Site: p.pc, Depth: depth})
		}
	case linux.FnSkRelease:
		t.sockets = slices.DeleteFunc(t.sockets, func(s Socket) bool { return s.Start == p.args[0] })
	case linux.FnSpinLock:
		t.lock = p.args[0]
	case linux.FnSpinUnlock:
		t.lock = 0
	}
	return ret
}

// Records are the ring buffer records the run holds.
func (t *Tracker) Records() []Record { return t.records }

// Sockets are the sockets the run's lookups returned and it holds.
func (t *Tracker) Sockets() []Socket { return t.sockets }

// Lock is the address of the spin lock word the run holds, 0 if none.
func (t *Tracker) Lock() uint64 { return t.lock }

// Written returns the bytes of the frame at depth that the run has written
// since the frame was entered: bit i%64 of word i/64 for the byte at
// r10-512+i.
func (t *Tracker) Written(depth int) *[8]uint64 {
	if depth < 0 || depth >= len(t.written) {
		return nil
	}
	return &t.written[depth]
}

// frameOf returns the live frame addr lies in and its offset from the
// frame's lowest byte.
func (t *Tracker) frameOf(addr uint64) (depth, off int, ok bool) {
	if t.Mem == nil || t.Mem.RC == nil {
		return 0, 0, false
	}
	top := t.Mem.RC.Stack().Top()
	if addr >= top || top-addr > uint64(t.live+1)*vm.StackSize {
		return 0, 0, false
	}
	below := top - addr // 1 for the top frame's last byte
	depth = int((below - 1) / vm.StackSize)
	off = vm.StackSize - int(below-uint64(depth)*vm.StackSize)
	return depth, off, true
}

// frameBytes returns the memory of the frame at depth.
func (t *Tracker) frameBytes(depth int) []byte {
	stack := t.Mem.RC.Stack().Bytes()
	hi := len(stack) - depth*vm.StackSize
	return stack[hi-vm.StackSize : hi]
}

func (t *Tracker) isWritten(depth, i int) bool {
	return t.written[depth][i/64]&(1<<(i%64)) != 0
}

// markWritten notes size bytes at addr as written, where they lie in live
// frames.
func (t *Tracker) markWritten(addr uint64, size int) {
	for j := 0; j < size; j++ {
		if d, off, ok := t.frameOf(addr + uint64(j)); ok {
			t.written[d][off/64] |= 1 << (off % 64)
		}
	}
}

// poison returns a random non-zero byte.
func (t *Tracker) poison() byte {
	if t.rng == 0 {
		t.rng = 0x9e3779b97f4a7c15
	}
	t.rng ^= t.rng << 13
	t.rng ^= t.rng >> 7
	t.rng ^= t.rng << 17
	return byte(t.rng%255) + 1
}
