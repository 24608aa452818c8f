package progen

import "github.com/bpfhost/bpfhost/isa"

// Socket lookups in hostile programs (XDP and tc): the reference a lookup
// takes must be released on every path, the socket checked against NULL
// before use, read only at the fields and widths Linux allows, never
// written, never used after release.

// Helper IDs of the socket fragment.
const (
	fnSkLookupTcp  = 84
	fnSkLookupUdp  = 85
	fnSkRelease    = 86
	fnSkcLookupTcp = 99
)

// sockField is a load from struct bpf_sock: offset and width.
type sockField struct {
	off int16
	w   int
}

var (
	// sockFields are loads bpf_sock_is_valid_access allows.
	sockFields = []sockField{{0, 4}, {4, 4}, {4, 1}, {8, 4}, {12, 2}, {16, 4}, {20, 4}, {24, 4}, {28, 4}, {40, 4},
		{44, 4}, {44, 2}, {48, 2}, {48, 4}, {49, 1}, {52, 4}, {56, 4}, {72, 4}, {76, 4}}
	// commonFields are those bpf_sock_common_is_valid_access allows too.
	commonFields = []sockField{{0, 4}, {4, 4}, {24, 4}, {44, 4}, {48, 2}, {52, 4}, {72, 4}}
	// badSockFields are loads Linux refuses: padding, a narrow read of
	// mark, a 64-bit read, past the end.
	badSockFields = []sockField{{50, 2}, {16, 1}, {0, 8}, {80, 4}, {8, 4}}
)

func widthSize(w int) isa.Size {
	switch w {
	case 1:
		return isa.SizeB
	case 2:
		return isa.SizeH
	case 8:
		return isa.SizeDW
	}
	return isa.SizeW
}

// socket looks up a socket by an all-zero IPv4 or IPv6 tuple on the stack
// (which finds nothing at run time, unless a host socket matches), reads a
// field and releases it.
func (h *Hostile) socket() {
	size := int32(12)
	if h.rng.IntN(4) == 0 {
		size = 36
	}
	for off := int16(-48); off < -8; off += 8 {
		h.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassST) | isa.Opcode(isa.SizeDW) | isa.Opcode(isa.ModeMEM), Dst: 10, Offset: off, Imm: 0})
	}
	fn := []int32{fnSkLookupTcp, fnSkLookupUdp, fnSkcLookupTcp}[h.rng.IntN(3)]
	h.emit(mov64(1, 6), mov64(2, 10), addImm(2, -48), movImm(3, size), movImm(4, -1), movImm(5, 0), call(fn))
	h.emit(mov64(7, 0))
	j := -1
	if !h.flaw("socket used without a NULL check") {
		j = h.skip(isa.JumpEq, 7, 0)
	}
	fields := sockFields
	if fn == fnSkcLookupTcp {
		fields = commonFields
	}
	f := fields[h.rng.IntN(len(fields))]
	if h.flaw("socket field read that Linux does not allow") {
		f = badSockFields[h.rng.IntN(len(badSockFields))]
	}
	h.emit(load(widthSize(f.w), 0, 7, f.off))
	if h.flaw("write to a socket") {
		h.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassST) | isa.Opcode(isa.SizeW) | isa.Opcode(isa.ModeMEM), Dst: 7, Offset: 16, Imm: 1})
	}
	if h.rng.IntN(4) == 0 && h.flaw("tail call while a socket is held") {
		h.tailCall()
	}
	if !h.flaw("socket never released") {
		h.emit(mov64(1, 7), call(fnSkRelease))
		if h.flaw("socket used after release") {
			h.emit(load(isa.SizeW, 0, 7, 4))
		}
	}
	if j >= 0 {
		h.land(j)
	}
}
