package verifier

import (
	"testing"

	"github.com/cilium/ebpf"
)

// TestPrecisionAttacksKernel: Linux's verifier gives each of precAttacks
// the verdict TestPrecisionAttacks holds bpfhost to, or the other one
// where notLinux says why. Needs root (skips otherwise).
func TestPrecisionAttacksKernel(t *testing.T) {
	m := kernelArray(t)
	types := map[string]ebpf.ProgramType{"": ebpf.XDP, "kprobe": ebpf.Kprobe, "tc": ebpf.SchedCLS}
	for _, c := range precAttacks {
		kernelVerdictIs(t, types[c.typ], c.name, precAttackProgram(t, c), m, c.accept != (c.notLinux != ""))
	}
}
