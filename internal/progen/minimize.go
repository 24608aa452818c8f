package progen

import "github.com/bpfhost/bpfhost/isa"

// Minimize shrinks a program that shows some behaviour (a mismatch between
// engines, a fault) by deleting runs of instructions for as long as the
// result still passes Check and interesting still reports true for it. It
// tries runs of half the program, then of a quarter and so on down to single
// instructions (an lddw counts as one). Jumps over or into a deleted run are
// re-aimed at what follows it. It calls interesting at most budget times (0
// means no limit) and returns the smallest interesting program found, prog
// itself if none is smaller.
//
// Deleting a loop's counter step can make a candidate loop forever: the
// interesting function must run candidates with an instruction budget and
// treat a program that does not finish (or that another engine refuses) as
// uninteresting; running the cheapest engine first saves time.
func Minimize(prog []isa.Instruction, interesting func([]isa.Instruction) bool, budget int) []isa.Instruction {
	calls := 0
	best := prog
	for chunk := max(len(starts(best))/2, 1); chunk >= 1; {
		progress := false
		// Walk backwards, so that a deletion leaves the instructions
		// still to try where they were. The last instruction is the exit
		// every program needs.
		for hi := len(starts(best)) - 1; hi > 0; {
			lo := max(hi-chunk, 0)
			at := starts(best)
			cand := deleteRange(best, at[lo], at[hi])
			if Check(cand) == nil {
				if budget > 0 && calls >= budget {
					return best
				}
				calls++
				if interesting(cand) {
					best, progress = cand, true
				}
			}
			hi = lo
		}
		if !progress {
			chunk /= 2
		}
	}
	return best
}

// starts returns the slot index of each instruction; an lddw is one
// instruction of two slots.
func starts(prog []isa.Instruction) []int {
	at := make([]int, 0, len(prog))
	for pc := 0; pc < len(prog); pc++ {
		at = append(at, pc)
		if prog[pc].IsLoadImm64() {
			pc++
		}
	}
	return at
}

// deleteRange returns a copy of prog without the slots [lo, hi), with every
// surviving jump's offset adjusted; a jump into the deleted run lands on the
// first slot after it.
func deleteRange(prog []isa.Instruction, lo, hi int) []isa.Instruction {
	width := hi - lo
	at := func(old int) int {
		switch {
		case old < lo:
			return old
		case old < hi:
			return lo
		}
		return old - width
	}
	out := make([]isa.Instruction, 0, len(prog)-width)
	for pc, ins := range prog {
		if pc >= lo && pc < hi {
			continue
		}
		// The second slot of an lddw has opcode 0 and is no jump. A run
		// that splits an lddw leaves a program Check rejects.
		if t, ok := ins.BranchTarget(pc); ok && !ins.IsLocalCall() {
			off := at(t) - at(pc) - 1
			if ins.Opcode == isa.OpJA32 {
				ins.Imm = int32(off)
			} else {
				ins.Offset = int16(off)
			}
		}
		out = append(out, ins)
	}
	return out
}
