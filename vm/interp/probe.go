package interp

import (
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

// Probing loads (vm.Program.ProbeLoads) run under internal opcodes: the
// load's opcode with the mode ABS (zero-extending) or IND (sign-extending),
// which isa.Validate rejects for LDX, so they never collide with a real
// instruction. The hot loop hands them to the driver.

// probeOp returns the internal opcode of a probing load.
func probeOp(op isa.Opcode) uint8 {
	mode := abs
	if op.Mode() == isa.ModeMEMSX {
		mode = ind
	}
	return ldx | mode | uint8(op.Size())
}

// probe runs a probing load of the internal opcode op at addr.
func probe(rc *vm.RunContext, op uint8, addr uint64) uint64 {
	size := isa.Opcode(op).Size().Bytes()
	v := rc.Probe(addr, size)
	if op&0xe0 != ind {
		return v
	}
	switch size {
	case 1:
		return uint64(int64(int8(v)))
	case 2:
		return uint64(int64(int16(v)))
	}
	return uint64(int64(int32(v)))
}
