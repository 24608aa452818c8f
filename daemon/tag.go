package daemon

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"hash"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/isa"
)

// Pseudo source registers of a map-referencing lddw, as libbpf loads them.
const (
	pseudoMapFD    = 1 // BPF_PSEUDO_MAP_FD
	pseudoMapValue = 2 // BPF_PSEUDO_MAP_VALUE
)

// Tag computes a program's tag as current Linux does (bpf_prog_calc_tag,
// checked against 6.18): the first 8 bytes of the SHA-256 of its
// instructions, in hex, with the immediates of map-referencing lddw
// instructions (both slots) zeroed, so that the tag does not depend on map
// file descriptors. The instructions are the program as libbpf loads it:
// the entry function and the functions it calls, maps referenced by file
// descriptor. Older kernels hash with SHA-1 (LegacyTag).
func Tag(ps *bpfhost.ProgramSpec) string { return tag(ps, sha256.New()) }

// LegacyTag is Tag as kernels before the switch to SHA-256 compute it.
func LegacyTag(ps *bpfhost.ProgramSpec) string { return tag(ps, sha1.New()) }

func tag(ps *bpfhost.ProgramSpec, h hash.Hash) string {
	insns := append([]isa.Instruction(nil), ps.Instructions...)
	for _, ref := range ps.References {
		if ref.Slot < 0 || ref.Slot+1 >= len(insns) {
			continue
		}
		switch ref.Kind {
		case bpfhost.RefMap:
			insns[ref.Slot].Src = pseudoMapFD
		case bpfhost.RefMapValue:
			insns[ref.Slot].Src = pseudoMapValue
		default:
			continue
		}
		insns[ref.Slot].Imm = 0
		insns[ref.Slot+1].Imm = 0
	}
	h.Write(isa.Encode(insns))
	return hex.EncodeToString(h.Sum(nil)[:8])
}
