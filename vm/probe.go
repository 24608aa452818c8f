package vm

import (
	"fmt"

	"github.com/bpfhost/bpfhost/isa"
)

// Probing loads: the loads through BTF-typed kernel pointers
// (Program.ProbeLoads). Linux turns them into PROBE_MEM loads, which read 0
// where the address faults; bpfhost has no kernel objects, and a run's
// arguments may be any numbers, so a probing load reads only memory the
// run may read, and 0 anywhere else (docs/decisions/0026-btf-pointers.md).

// Probe returns the value, in host byte order like every load, of size bytes (1, 2, 4 or 8) at
// addr when the whole range lies in the run's live stack frames or its
// regions (the memory Check accepts for a read), and 0 otherwise. It never
// touches memory outside them.
func (rc *RunContext) Probe(addr uint64, size int) uint64 {
	if rc.Check(addr, size, false) != nil {
		return 0
	}
	p := Pointer(addr)
	switch size {
	case 1:
		return uint64(*(*uint8)(p))
	case 2:
		return uint64(*(*uint16)(p))
	case 4:
		return uint64(*(*uint32)(p))
	}
	return *(*uint64)(p)
}

// CheckProbeLoads validates p.ProbeLoads: sorted slot indices of LDX
// instructions. Engines call it when they compile.
func CheckProbeLoads(p *Program) error {
	for k, pc := range p.ProbeLoads {
		if pc < 0 || pc >= len(p.Instructions) || (k > 0 && pc <= p.ProbeLoads[k-1]) {
			return &CompileError{PC: pc, Err: fmt.Errorf("probe load %d: slot out of range or out of order", pc)}
		}
		if c := p.Instructions[pc].Opcode.Class(); c != isa.ClassLDX {
			return &CompileError{PC: pc, Err: fmt.Errorf("probe load %d: not a load (LDX)", pc)}
		}
	}
	return nil
}
