package daemon

import (
	"crypto/sha1"
	"encoding/hex"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/object"
)

// Pseudo source registers of a map-referencing lddw, as Linux defines them.
const (
	pseudoMapFD    = 1 // BPF_PSEUDO_MAP_FD
	pseudoMapValue = 2 // BPF_PSEUDO_MAP_VALUE
)

// Tag computes a program's tag as Linux does (bpf_prog_calc_tag): the
// first 8 bytes of the SHA-1 of its instructions, in hex, with the
// immediates of map-referencing lddw instructions (both slots) zeroed, so
// that the tag does not depend on map file descriptors. The instructions
// are the program as it is loaded: the entry function and the functions it
// calls.
func Tag(ps *bpfhost.ProgramSpec) string {
	insns := append([]isa.Instruction(nil), ps.Instructions...)
	for _, ref := range ps.References {
		if ref.Slot < 0 || ref.Slot+1 >= len(insns) {
			continue
		}
		switch ref.Kind {
		case object.RefMap:
			insns[ref.Slot].Src = pseudoMapFD
		case object.RefMapValue:
			insns[ref.Slot].Src = pseudoMapValue
		default:
			continue
		}
		insns[ref.Slot].Imm = 0
		insns[ref.Slot+1].Imm = 0
	}
	sum := sha1.Sum(isa.Encode(insns))
	return hex.EncodeToString(sum[:8])
}
