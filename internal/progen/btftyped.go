package progen

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/bpfhost/bpfhost/isa"
)

// HostileTPBTF is the type of BTFTyped's programs: "tp_btf/sched_switch",
// whose context is the tracepoint's arguments (bool preempt, struct
// task_struct *prev, struct task_struct *next, unsigned int prev_state),
// prev and next BTF-typed kernel pointers (decision 0026). Hostile never
// makes programs of it.
const HostileTPBTF HostileType = hostileTypes

// TaskLayout is where BTFTyped's programs find the members of struct
// task_struct they read: offsets in bytes, from the kernel BTF the
// programs are verified against (testdata/btfptr/kernel.o's, or the
// running kernel's for the kernel differential).
type TaskLayout struct {
	Size       int // sizeof(struct task_struct)
	Flags      int // unsigned int flags
	Pid        int // int pid
	Tgid       int // int tgid
	RealParent int // struct task_struct *real_parent
	Comm       int // char comm[16]
}

// BTFTyped makes random tp_btf programs that use BTF-typed kernel pointers
// (Linux's PTR_TO_BTF_ID) in every way a helper or an instruction may take
// them: reads through them and through pointers loaded from them, NULL
// checks (which keep both branches: they may be NULL or wild), joins with
// NULL, numbers and other pointers, constant and variable offsets, the
// difference of two, 32-bit moves, ordered comparisons; and as helper
// arguments of every kind the helper table has: sizes and counts
// (bpf_probe_read_kernel, bpf_loop), flags (bpf_map_update_elem,
// bpf_ringbuf_output, bpf_ringbuf_reserve, bpf_loop), map keys and values
// (spilled, so the key's bytes are the pointer's), buffers
// (bpf_probe_read_kernel's source and destination, bpf_ringbuf_output's
// data) and callback contexts (bpf_loop), in subprograms too. Each
// fragment now and then gets one detail wrong (a bound one too large, a
// check left out, a pointer where a number or memory is expected). Where
// the verifier's abstract value of a BTF pointer (its offset) is taken for
// its run-time value (the bpf_loop count of decision 0040), an accepted
// program breaks containment.
//
// Programs use HostileArray (lddw of map index 0) and HostileRingbuf (map
// index 1). Registers: r6 = the context, r7 = the array's value at key 0
// (16 bytes), r8 = prev, r9 = next; r0-r5 scratch.
type BTFTyped struct {
	// Only, if set, lists the fragments (0 <= i < BTFFragments) programs
	// are made of; all kinds otherwise.
	Only []int

	asmText
	lay   TaskLayout
	funcs int
}

// NewBTFTyped returns a generator of BTF-typed programs for a kernel whose
// task_struct is laid out as lay, drawing from rng.
func NewBTFTyped(rng *rand.Rand, lay TaskLayout) *BTFTyped {
	return &BTFTyped{asmText: asmText{rng: rng}, lay: lay}
}

// BTFFragments is how many kinds of fragment BTFTyped.Fragment knows.
const BTFFragments = 11

// Marks the text uses for what the assembler has no syntax for: the lddw
// of HostileRingbuf, and the address of a callback (lddw of funcMark+k,
// callback k starting with "mov %r0, cbMark+k").
const (
	ringbufMark = 0x524230
	funcMark    = 0x46000
	cbMark      = 0x43000
)

// Program returns a new program of 1 to 4 fragments.
func (g *BTFTyped) Program() PrecisionProgram {
	src := g.Source(1 + g.rng.IntN(4))
	prog, err := isa.Assemble(src)
	if err != nil {
		panic(fmt.Sprintf("progen: BTF-typed program does not assemble: %v\n%s", err, src))
	}
	starts := map[int32]int{} // callback k -> its first slot
	for pc := range prog {
		if in := prog[pc]; in.Opcode == movImm(0, 0).Opcode && in.Dst == 0 && in.Imm >= cbMark && in.Imm < cbMark+0x1000 {
			starts[in.Imm-cbMark] = pc
		}
	}
	for pc := 0; pc < len(prog); pc++ {
		if !prog[pc].IsLoadImm64() {
			continue
		}
		switch imm := prog[pc].Imm; {
		case imm == mapMark:
			prog[pc].Src, prog[pc].Imm = isa.PseudoMapIdx, HostileArray
		case imm == ringbufMark:
			prog[pc].Src, prog[pc].Imm = isa.PseudoMapIdx, HostileRingbuf
		case imm >= funcMark && imm < funcMark+0x1000:
			start, ok := starts[imm-funcMark]
			if !ok {
				panic(fmt.Sprintf("progen: no callback %d\n%s", imm-funcMark, src))
			}
			prog[pc].Src, prog[pc].Imm = isa.PseudoFunc, int32(start-pc-1)
		}
		pc++
	}
	return PrecisionProgram{HostileProgram{Type: HostileTPBTF, Instructions: prog, Flaws: g.made}, src}
}

// Source returns the assembly text of a program of n fragments, with
// marks for maps and callbacks that Program resolves.
func (g *BTFTyped) Source(n int) string {
	g.reset()
	g.funcs = 0
	g.e("mov %%r6, %%r1")
	g.e("stw [%%r10-4], 0")
	g.e("mov %%r2, %%r10")
	g.e("add %%r2, -4")
	g.e("lddw %%r1, %#x", mapMark)
	g.e("call 1")
	g.e("jne %%r0, 0, +2")
	g.e("mov %%r0, 0")
	g.e("exit")
	g.e("mov %%r7, %%r0")
	g.e("ldxdw %%r8, [%%r6+8]")
	g.e("ldxdw %%r9, [%%r6+16]")
	g.fragments(n, g.Only, BTFFragments, g.Fragment)
	g.e("mov %%r0, 0")
	g.e("exit")
	return g.text()
}

// Fragment emits fragment i (0 <= i < BTFFragments).
func (g *BTFTyped) Fragment(i int) {
	[]func(){g.read, g.size, g.count, g.flags, g.key, g.value, g.buffer, g.arith, g.join, g.subprog, g.cbContext}[i]()
}

// ptr puts a BTF pointer to a task in register r: prev, next, one loaded
// from the context again, or a real_parent loaded through one.
func (g *BTFTyped) ptr(r string) {
	switch g.rng.IntN(5) {
	case 0, 1:
		g.e("mov %s, %%r8", r)
	case 2:
		g.e("mov %s, %%r9", r)
	case 3:
		g.e("ldxdw %s, [%%r6+%s]", r, g.pick("8", "16"))
	case 4:
		g.e("ldxdw %s, [%s+%d]", r, g.pick("%r8", "%r9"), g.lay.RealParent)
	}
}

// member reads a number member of the task r points to into dst.
func (g *BTFTyped) member(dst, r string) {
	switch g.rng.IntN(4) {
	case 0:
		g.e("ldxw %s, [%s+%d]", dst, r, g.lay.Pid)
	case 1:
		g.e("ldxw %s, [%s+%d]", dst, r, g.lay.Tgid)
	case 2:
		g.e("ldxw %s, [%s+%d]", dst, r, g.lay.Flags)
	case 3:
		g.e("ldxb %s, [%s+%d]", dst, r, g.lay.Comm+g.rng.IntN(16))
	}
}

// notPointer is a number a flawed fragment passes where the helper wants
// a pointer, or a BTF pointer where it wants a number.
func (g *BTFTyped) asNumber(r string) {
	switch g.rng.IntN(4) {
	case 0:
		g.e("mov %s, %%r8", r)
	case 1:
		g.e("mov %s, %%r9", r)
	case 2:
		g.e("mov %s, %%r8", r)
		g.e("sub %s, %%r9", r) // a number to the verifier: any value
	case 3:
		g.e("mov32 %s, %%r8", r) // a number: the low half
	}
}

// read: a member, or a member of real_parent, read through a BTF pointer,
// NULL-checked or not, stored in the map value. Flawed: past the struct,
// a write, a negative or variable offset, half a pointer member.
func (g *BTFTyped) read() {
	ls := g.l()
	g.ptr("%r1")
	if g.rng.IntN(2) == 0 {
		g.e("jeq %%r1, 0, %s", ls)
	}
	if g.rng.IntN(3) == 0 {
		g.e("ldxdw %%r1, [%%r1+%d]", g.lay.RealParent)
	}
	if g.flaw() {
		switch g.rng.IntN(5) {
		case 0:
			g.e("ldxw %%r0, [%%r1+%d]", g.lay.Size)
		case 1:
			g.e("stw [%%r1+%d], 1", g.lay.Pid)
		case 2:
			g.e("ldxw %%r0, [%%r1-4]")
		case 3:
			g.e("call 7")
			g.e("and %%r0, 4")
			g.e("add %%r1, %%r0")
			g.e("ldxw %%r0, [%%r1+%d]", g.lay.Pid)
		case 4:
			g.e("ldxw %%r0, [%%r1+%d]", g.lay.RealParent)
		}
	} else {
		g.member("%r0", "%r1")
	}
	g.e("stxw [%%r7+0], %%r0")
	g.e("%s:", ls)
}

// size: bpf_probe_read_kernel(_str) into a 16-byte stack buffer with a
// size read through a BTF pointer and bounded; the source a BTF pointer
// (at a constant offset), a number or the map value. Flawed: the BTF
// pointer itself as the size, or a bound one too large.
func (g *BTFTyped) size() {
	ls := g.l()
	g.e("stdw [%%r10-32], 0")
	g.e("stdw [%%r10-24], 0")
	g.ptr("%r1")
	g.member("%r2", "%r1")
	bound := 16
	if g.flaw() {
		if g.rng.IntN(2) == 0 {
			g.asNumber("%r2")
		} else {
			bound = 17
		}
	}
	if g.rng.IntN(2) == 0 {
		g.e("jgt %%r2, %d, %s", bound, ls)
	} else {
		g.e("and %%r2, %d", map[int]int{16: 15, 17: 31}[bound])
	}
	switch g.rng.IntN(4) {
	case 0:
		g.ptr("%r3")
		g.e("add %%r3, %d", g.lay.Comm)
	case 1:
		g.ptr("%r3")
	case 2:
		g.e("mov %%r3, %%r7")
	case 3:
		g.asNumber("%r3")
	}
	g.e("mov %%r1, %%r10")
	g.e("add %%r1, -32")
	g.e("call %s", g.pick("113", "115", "4"))
	g.e("ldxdw %%r0, [%%r10-32]")
	g.e("stxdw [%%r7+8], %%r0")
	g.e("%s:", ls)
}

// callback adds a bpf_loop callback with body (lines) and returns its
// mark for lddw.
func (g *BTFTyped) callback(body ...string) int {
	k := g.funcs
	g.funcs++
	var s strings.Builder
	fmt.Fprintf(&s, "mov %%r0, %#x\n", cbMark+k)
	for _, line := range body {
		s.WriteString(line)
		s.WriteByte('\n')
	}
	g.subs = append(g.subs, s.String())
	return funcMark + k
}

// count: bpf_loop with a count that is a BTF pointer, the difference of
// two, a member read through one or a constant; the callback writes the
// caller's 16-byte stack buffer at its index times 8, behind a check of
// the index that a flawed one leaves out (safe only for counts up to 2,
// which the verifier must not believe of a BTF pointer; the callback
// stops the loop after three calls). Flags now and then a BTF pointer too
// (the helper refuses them).
func (g *BTFTyped) count() {
	// The callback stops the loop after three calls: enough to write past
	// the buffer when the verifier believed fewer, while a count that is
	// an address costs a run no more. A count that is a BTF pointer (half
	// the fragments: the bpf_loop escape of decision 0040) drops the
	// index check every other time and passes flags 0.
	k := g.funcs
	kind := g.rng.IntN(6)
	pointer := kind >= 3
	body := []string{fmt.Sprintf("jgt %%r1, 2, CB%d_stop", k), "mov %r3, %r1"}
	if drop := g.flaw() || pointer && g.rng.IntN(2) == 0; !drop {
		body = append(body, fmt.Sprintf("jgt %%r3, 1, CB%d_out", k))
	} else if len(g.made) == 0 || g.made[len(g.made)-1] != "flaw" {
		g.made = append(g.made, "flaw")
	}
	body = append(body, "lsh %r3, 3", "add %r2, %r3", "stdw [%r2+0], 1",
		fmt.Sprintf("CB%d_out:", k), fmt.Sprintf("mov %%r0, %d", g.rng.IntN(2)), "exit",
		fmt.Sprintf("CB%d_stop:", k), "mov %r0, 1", "exit")
	mark := g.callback(body...)
	g.e("stdw [%%r10-16], 0")
	g.e("stdw [%%r10-8], 0")
	switch kind {
	case 0:
		g.asNumber("%r1")
	case 1:
		g.ptr("%r2")
		g.member("%r1", "%r2")
		g.e("and %%r1, %s", g.pick("1", "3", "0xff"))
	case 2:
		g.e("mov %%r1, 2")
	default:
		g.ptr("%r1")
	}
	g.e("lddw %%r2, %#x", mark)
	g.e("mov %%r3, %%r10")
	g.e("add %%r3, -16")
	if !pointer && g.rng.IntN(4) == 0 {
		g.asNumber("%r4")
	} else {
		g.e("mov %%r4, 0")
	}
	g.e("call 181")
	g.e("stxdw [%%r7+0], %%r0")
}

// flags: helpers whose flags (or delta) argument is a BTF pointer or a
// member read through one: the helper must refuse what it does not know.
func (g *BTFTyped) flags() {
	switch g.rng.IntN(3) {
	case 0: // bpf_map_update_elem(array, &key, value, flags)
		g.e("stw [%%r10-4], %d", g.rng.IntN(6))
		g.e("mov %%r2, %%r10")
		g.e("add %%r2, -4")
		g.e("mov %%r3, %%r7")
		g.asNumber("%r4")
		g.e("lddw %%r1, %#x", mapMark)
		g.e("call 2")
	case 1: // bpf_ringbuf_output(rb, data, 8, flags)
		g.e("stdw [%%r10-16], 7")
		g.e("mov %%r2, %%r10")
		g.e("add %%r2, -16")
		g.e("mov %%r3, 8")
		g.asNumber("%r4")
		g.e("lddw %%r1, %#x", ringbufMark)
		g.e("call 130")
	case 2: // bpf_ringbuf_reserve(rb, 16, flags), bpf_ringbuf_submit(rec, flags)
		ls := g.l()
		g.e("mov %%r2, 16")
		if g.rng.IntN(2) == 0 {
			g.asNumber("%r3")
		} else {
			g.e("mov %%r3, 0")
		}
		g.e("lddw %%r1, %#x", ringbufMark)
		g.e("call 131")
		if !g.flaw() {
			g.e("jeq %%r0, 0, %s", ls)
		}
		g.e("stxdw [%%r0+0], %%r8")
		g.e("stxdw [%%r0+8], %%r9")
		g.e("mov %%r1, %%r0")
		g.asNumber("%r2")
		g.e("call %s", g.pick("132", "133"))
		g.e("%s:", ls)
		g.e("mov %%r0, 0")
	}
	g.e("stxdw [%%r7+8], %%r0")
}

// key: a BTF pointer (or a member) spilled to the stack and used as the
// array's key: its low 4 bytes, any index; the lookup may fail, and a
// flawed fragment does not check.
func (g *BTFTyped) key() {
	ls := g.l()
	if g.rng.IntN(3) == 0 {
		g.ptr("%r1")
		g.member("%r0", "%r1")
		g.e("stxw [%%r10-8], %%r0")
	} else {
		g.ptr("%r1")
		g.e("stxdw [%%r10-8], %%r1")
	}
	g.e("mov %%r2, %%r10")
	g.e("add %%r2, -8")
	g.e("lddw %%r1, %#x", mapMark)
	g.e("call 1")
	if !g.flaw() {
		g.e("jeq %%r0, 0, %s", ls)
	}
	g.e("ldxdw %%r1, [%%r0+%d]", 8*g.rng.IntN(2))
	g.e("stxdw [%%r7+0], %%r1")
	g.e("%s:", ls)
}

// value: BTF pointers stored in the map value, directly or by
// bpf_map_update_elem from the stack, read back (numbers now); a flawed
// fragment reads through what it read back.
func (g *BTFTyped) value() {
	if g.rng.IntN(2) == 0 {
		g.ptr("%r1")
		g.e("stxdw [%%r7+8], %%r1")
	} else {
		g.ptr("%r1")
		g.e("stxdw [%%r10-24], %%r1")
		g.ptr("%r1")
		g.e("stxdw [%%r10-16], %%r1")
		g.e("stw [%%r10-4], %d", g.rng.IntN(5))
		g.e("mov %%r2, %%r10")
		g.e("add %%r2, -4")
		g.e("mov %%r3, %%r10")
		g.e("add %%r3, -24")
		g.e("mov %%r4, 0")
		g.e("lddw %%r1, %#x", mapMark)
		g.e("call 2")
	}
	g.e("ldxdw %%r1, [%%r7+8]")
	if g.flaw() {
		g.e("ldxw %%r0, [%%r1+%d]", g.lay.Pid)
		g.e("stxw [%%r7+0], %%r0")
	} else {
		g.e("and %%r1, 7")
		g.e("add %%r1, %%r7")
		g.e("ldxb %%r0, [%%r1+0]")
	}
}

// buffer: a BTF pointer as a helper's memory: bpf_probe_read_kernel's
// source (any address: it reads what the run owns and fails elsewhere),
// into the stack or the map value; flawed: as its destination, as
// bpf_ringbuf_output's data, as a map key or value pointer.
func (g *BTFTyped) buffer() {
	if g.flaw() {
		g.ptr("%r5")
		switch g.rng.IntN(4) {
		case 0:
			g.e("mov %%r1, %%r5")
			g.e("mov %%r2, 8")
			g.e("mov %%r3, %%r7")
			g.e("call 113")
		case 1:
			g.e("mov %%r2, %%r5")
			g.e("mov %%r3, 8")
			g.e("mov %%r4, 0")
			g.e("lddw %%r1, %#x", ringbufMark)
			g.e("call 130")
		case 2:
			g.e("mov %%r2, %%r5")
			g.e("lddw %%r1, %#x", mapMark)
			g.e("call 1")
		case 3:
			g.e("stw [%%r10-4], 0")
			g.e("mov %%r2, %%r10")
			g.e("add %%r2, -4")
			g.e("mov %%r3, %%r5")
			g.e("mov %%r4, 0")
			g.e("lddw %%r1, %#x", mapMark)
			g.e("call 2")
		}
		return
	}
	g.ptr("%r3")
	if g.rng.IntN(2) == 0 {
		g.e("add %%r3, %d", g.rng.IntN(g.lay.Size))
	}
	n := 1 + g.rng.IntN(16)
	dst := "[%r10-24]"
	if g.rng.IntN(2) == 0 {
		// Over a spilled pointer: the helper must write or zero every
		// byte, or the load below reads the pointer back as a number.
		g.e("stxdw [%%r10-24], %s", g.pick("%r7", "%r10"))
		g.e("stdw [%%r10-16], 0")
		g.e("mov %%r1, %%r10")
		g.e("add %%r1, -24")
	} else {
		g.e("mov %%r1, %%r7")
		n, dst = 1+g.rng.IntN(8), "[%r7+0]"
		if g.rng.IntN(2) == 0 {
			g.e("add %%r1, 8")
			dst = "[%r7+8]"
		}
	}
	g.e("mov %%r2, %d", n)
	g.e("call %s", g.pick("113", "115"))
	g.e("stxdw [%%r7+0], %%r0")
	if n >= 8 {
		g.e("ldxdw %%r0, %s", dst)
		g.e("stxdw [%%r7+8], %%r0")
	}
}

// arith: a constant added to a BTF pointer and a read at the offset that
// makes a member; the difference of two BTF pointers, or a 32-bit move of
// one, bounded and used as an offset into the map value (a flawed bound
// one too large); an ordered comparison of two, with a read on one side.
func (g *BTFTyped) arith() {
	switch g.rng.IntN(4) {
	case 0:
		k := 4 * g.rng.IntN(g.lay.Pid/4+1)
		g.ptr("%r1")
		g.e("add %%r1, %d", k)
		g.e("ldxw %%r0, [%%r1+%d]", g.lay.Pid-k)
		g.e("stxw [%%r7+4], %%r0")
	case 1, 2:
		ls := g.l()
		test := g.pick("jgt", "jsgt")
		if g.rng.IntN(2) == 0 {
			g.e("mov %%r2, %%r8")
			g.e("sub %%r2, %s", g.pick("%r9", "%r8"))
		} else {
			g.e("mov32 %%r2, %s", g.pick("%r9", "%r8"))
			test = g.pick("jgt", "jgt32", "jsgt")
		}
		bound := 15
		if g.flaw() {
			bound = 16
		}
		g.e("%s %%r2, %d, %s", test, bound, ls)
		g.e("jslt %%r2, 0, %s", ls)
		g.e("mov %%r1, %%r7")
		g.e("add %%r1, %%r2")
		g.e("ldxb %%r0, [%%r1+0]")
		g.e("%s:", ls)
	case 3:
		ls := g.l()
		g.e("%s %%r8, %%r9, %s", g.pick("jgt", "jge", "jslt", "jeq", "jne", "jlt"), ls)
		g.e("ldxw %%r0, [%%r9+%d]", g.lay.Tgid)
		g.e("stxw [%%r7+0], %%r0")
		g.e("%s:", ls)
		if g.flaw() {
			g.e("%s %%r8, %s, %s", g.pick("jgt", "jle", "jset"), g.pick("5", "0x10000"), g.l())
			g.e("%s:", fmt.Sprintf("L%d", g.label))
			g.e("mov %%r1, %%r7")
			g.e("add %%r1, %%r8") // a map value plus a BTF pointer: refused
			g.e("ldxb %%r0, [%%r1+0]")
		}
	}
}

// join: a BTF pointer on one path, NULL, a number, the other task, the
// stack or the map value on the other; maybe checked for NULL, then read
// through.
func (g *BTFTyped) join() {
	la, lj, ls := g.l(), g.l(), g.l()
	g.e("call 7")
	g.e("jset %%r0, 1, %s", la)
	g.ptr("%r1")
	g.e("ja %s", lj)
	g.e("%s:", la)
	other := g.pick("0", "0", "%r9", "%r8")
	if g.flaw() {
		other = g.pick("5", "%r7", "%r10")
	}
	g.e("mov %%r1, %s", other)
	g.e("%s:", lj)
	if g.rng.IntN(3) == 0 {
		g.e("stxdw [%%r10-40], %%r1")
		g.e("ldxdw %%r1, [%%r10-40]")
	}
	if g.rng.IntN(2) == 0 {
		g.e("jeq %%r1, 0, %s", ls)
	}
	g.member("%r0", "%r1")
	g.e("stxw [%%r7+0], %%r0")
	g.e("%s:", ls)
}

// subprog: a BTF pointer passed to a subprogram that reads through it and
// returns the member; the caller bounds what comes back (a flawed one
// does not) and uses it as an offset.
func (g *BTFTyped) subprog() {
	name := fmt.Sprintf("S%d", len(g.subs))
	var s strings.Builder
	fmt.Fprintf(&s, "%s:\n", name)
	if g.rng.IntN(2) == 0 {
		fmt.Fprintf(&s, "jne %%r1, 0, %s_go\nmov %%r0, 0\nexit\n%s_go:\n", name, name)
	}
	fmt.Fprintf(&s, "ldxw %%r0, [%%r1+%d]\nexit\n", []int{g.lay.Pid, g.lay.Tgid, g.lay.Flags}[g.rng.IntN(3)])
	g.subs = append(g.subs, s.String())
	g.ptr("%r1")
	g.e("call local %s", name)
	if !g.flaw() {
		g.e("and %%r0, 15")
	}
	g.e("mov %%r1, %%r7")
	g.e("add %%r1, %%r0")
	g.e("ldxb %%r0, [%%r1+0]")
}

// cbContext: BTF pointers spilled to a stack buffer that bpf_loop hands its
// callback, which reads through them; flawed: the BTF pointer itself as
// the callback's context.
func (g *BTFTyped) cbContext() {
	ls := fmt.Sprintf("CB%d_skip", g.funcs)
	mark := g.callback("ldxdw %r3, [%r2+0]", fmt.Sprintf("jeq %%r3, 0, %s", ls),
		fmt.Sprintf("ldxw %%r0, [%%r3+%d]", g.lay.Pid), "stxw [%r2+8], %r0",
		fmt.Sprintf("%s:", ls), "mov %r0, 0", "exit")
	g.ptr("%r1")
	g.e("stxdw [%%r10-16], %%r1")
	g.e("stdw [%%r10-8], 0")
	g.e("mov %%r1, %d", 1+g.rng.IntN(3))
	g.e("lddw %%r2, %#x", mark)
	if g.flaw() {
		g.ptr("%r3")
	} else {
		g.e("mov %%r3, %%r10")
		g.e("add %%r3, -16")
	}
	g.e("mov %%r4, 0")
	g.e("call 181")
	g.e("ldxdw %%r0, [%%r10-8]")
	g.e("stxdw [%%r7+0], %%r0")
}
