package amd64

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

// ErrNotJIT is returned by Listing for executables of other engines.
var ErrNotJIT = errors.New("not a JIT executable")

// layout records where the code of each slot and shared routine starts,
// for Listing. The code is laid out as: the shared routines, the slots in
// order, then the out-of-line code (stubs) of slow and rare paths.
type layout struct {
	entry, exit, final, retResume int32
	// slots[pc] is where slot pc's code starts; slots[len] ends the body.
	// The second slot of an lddw starts where its code ends: it has none.
	slots []int32
	stubs []stubMark // in code order
	end   int32
}

// stubMark is where the out-of-line code of slot pc starts.
type stubMark struct{ pc, off int32 }

// Block is the machine code of one eBPF slot, or of a routine the slots
// share.
type Block struct {
	// PC is the slot, -1 for shared routines.
	PC int
	// Name is the routine's name ("entry", "exit", "done", "return"), or the
	// slot's instruction in the assembler dialect of package isa.
	Name string
	// OutOfLine marks code of the slot that lies after the body: the
	// slow or rare paths of its instruction (budget exits, checked-mode
	// region tests, NULL results).
	OutOfLine bool
	// Offset is where the block starts in the code, Addr its address.
	Offset int
	Addr   uintptr
	// Code is a copy of the block's machine code. It may be empty: some
	// instructions compile to nothing (a 64-bit move of a register to
	// itself, a shift by 0).
	Code []byte
	// Insns is the disassembly, one machine instruction per line: the
	// bytes in hex, then the instruction in Intel syntax. Jump targets and
	// rip-relative addresses are code offsets, followed by the block they
	// fall in: "0f 85 1a 00 00 00     jne 0x1a3 <pc 12+0x7>". At least two
	// spaces separate the bytes from the text.
	Insns []string
}

// Listing returns the machine code of a JIT executable by eBPF slot:
// first the shared routines, then every slot in order (but the second
// halves of lddw), then the out-of-line code, in the order of the code,
// which the blocks cover without gaps. It fails with ErrNotJIT for
// executables of other engines.
func Listing(exe vm.Executable) ([]Block, error) {
	e, ok := exe.(*executable)
	if !ok {
		return nil, fmt.Errorf("%w: %T", ErrNotJIT, exe)
	}
	if e.mem == nil {
		return nil, errClosed
	}
	lay := e.layout
	code := e.mem[:lay.end]
	var blocks []Block
	add := func(pc int, name string, outOfLine bool, from, to int32) {
		blocks = append(blocks, Block{PC: pc, Name: name, OutOfLine: outOfLine, Offset: int(from), Addr: e.base + uintptr(from), Code: append([]byte(nil), code[from:to]...)})
	}
	add(-1, "entry", false, lay.entry, lay.exit)
	add(-1, "exit", false, lay.exit, lay.final)
	add(-1, "done", false, lay.final, lay.retResume)
	add(-1, "return", false, lay.retResume, lay.slots[0])
	for pc := 0; pc < len(e.prog); pc++ {
		next := pc + 1
		text := e.prog[pc].Text()
		if e.prog[pc].IsLoadImm64() {
			next++
			text = strings.TrimSpace(isa.Disassemble(e.prog[pc:next]))
		}
		add(pc, text, false, lay.slots[pc], lay.slots[next])
		pc = next - 1
	}
	for i, s := range lay.stubs {
		to := lay.end
		if i+1 < len(lay.stubs) {
			to = lay.stubs[i+1].off
		}
		add(int(s.pc), blocks[slotBlock(blocks, int(s.pc))].Name, true, s.off, to)
	}
	for i := range blocks {
		b := &blocks[i]
		for off := 0; off < len(b.Code); {
			n, text, ref := decode(code, b.Offset+off)
			if ref >= 0 {
				text += " <" + where(blocks, ref) + ">"
			}
			b.Insns = append(b.Insns, fmt.Sprintf("%-20s  %s", hexBytes(code[b.Offset+off:b.Offset+off+n]), text))
			off += n
		}
	}
	return blocks, nil
}

// slotBlock returns the index of the in-line block of slot pc.
func slotBlock(blocks []Block, pc int) int {
	return sort.Search(len(blocks), func(i int) bool { return blocks[i].OutOfLine || blocks[i].PC >= pc })
}

// where names the code offset off: the block it falls in and how far into
// it.
func where(blocks []Block, off int) string {
	i := sort.Search(len(blocks), func(i int) bool { return blocks[i].Offset > off }) - 1
	if i < 0 {
		return "?"
	}
	for i > 0 && blocks[i-1].Offset == off { // the first of blocks that start there
		i--
	}
	b := blocks[i]
	name := b.Name
	if b.PC >= 0 {
		name = fmt.Sprintf("pc %d", b.PC)
		if b.OutOfLine {
			name += " out of line"
		}
	}
	if off > b.Offset {
		name += fmt.Sprintf("+%#x", off-b.Offset)
	}
	return name
}

func hexBytes(b []byte) string {
	var s strings.Builder
	for i, c := range b {
		if i > 0 {
			s.WriteByte(' ')
		}
		fmt.Fprintf(&s, "%02x", c)
	}
	return s.String()
}
