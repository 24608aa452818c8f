package verifier

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/bpfhost/bpfhost/isa"
)

// TestSocketCasesKernel: the Linux verifier gives each of socketCases the
// verdict the case expects (accept or reject), so the cases TestSocketLookups
// holds bpfhost to are Linux's rules. Needs root (skips otherwise).
func TestSocketCasesKernel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to load programs into the kernel")
	}
	jmp, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err != nil {
		t.Skipf("kernel maps unavailable: %v", err)
	}
	defer jmp.Close()
	types := map[string]ebpf.ProgramType{"tc": ebpf.SchedCLS, "xdp": ebpf.XDP, "socket": ebpf.SocketFilter}
	for _, c := range socketCases {
		insns := kernelInsns(t, socketCaseProgram(t, c.helper, c.body), jmp)
		prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: types[c.typ], Instructions: insns, License: "GPL"})
		if prog != nil {
			prog.Close()
		}
		var ve *ebpf.VerifierError
		switch {
		case err != nil && !errors.As(err, &ve):
			t.Fatalf("%s: loading: %v", c.name, err)
		case c.reject == "" && err != nil:
			t.Errorf("%s: the kernel rejects it: %v", c.name, err)
		case c.reject != "" && err == nil:
			t.Errorf("%s: the kernel accepts it; bpfhost expects a rejection (%q)", c.name, c.reject)
		}
	}
}

// kernelInsns converts a program for cilium/ebpf, its lddw of map 0
// referring to m.
func kernelInsns(t *testing.T, prog []isa.Instruction, m *ebpf.Map) asm.Instructions {
	t.Helper()
	insns, err := asm.AppendInstructions(nil, bytes.NewReader(isa.Encode(prog)), binary.LittleEndian, "linux")
	if err != nil {
		t.Fatal(err)
	}
	for i := range insns {
		if insns[i].OpCode == asm.LoadImmOp(asm.DWord) && insns[i].Src == asm.Register(isa.PseudoMapIdx) {
			insns[i].Src, insns[i].Constant = asm.PseudoMapFD, 0
			if err := insns[i].AssociateMap(m); err != nil {
				t.Fatal(err)
			}
		}
	}
	return insns
}
