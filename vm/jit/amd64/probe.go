package amd64

import (
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

// Loads through BTF-typed kernel pointers (vm.Program.ProbeLoads) read 0
// outside the run's memory. The code leaves for Run with the address, and
// Run reads it with vm.RunContext.Probe, as the interpreter does: the same
// answer in trusted and checked code, at the cost of an exit per such load
// (docs/decisions/0026-btf-pointers.md).

// probeLoad emits a probing load: the address goes to context.addr, and
// Run writes the value into the destination register.
func (c *compiler) probeLoad(pc int, ins isa.Instruction) {
	a := &c.a
	a.lea(tmp2, bpfReg[ins.Src], int32(ins.Offset))
	a.store(true, ctxReg, offAddr, tmp2)
	c.exitHere(exitInfo{kind: exitProbe, pc: int32(pc), partial: c.pending(pc), size: uint8(ins.Opcode.Size().Bytes()),
		atomic: ins.Opcode.Mode() == isa.ModeMEMSX, arg: int32(ins.Dst)})
}

// probed is the value of the probing load x at addr.
func probed(rc *vm.RunContext, addr uint64, x *exitInfo) uint64 {
	v := rc.Probe(addr, int(x.size))
	if !x.atomic {
		return v
	}
	switch x.size {
	case 1:
		return uint64(int64(int8(v)))
	case 2:
		return uint64(int64(int16(v)))
	}
	return uint64(int64(int32(v)))
}
