package verifier_test

import (
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/verifier"
)

// TestPacketSizeLimitFromDescriptor checks that the verifier bounds a
// buffer's length by the program type's PacketSizeLimit, the bound the run
// time enforces (platform.ProgramTypeInfo.EntryArgs): a store through a
// scalar behind "if r2 > limit" is dead code only for that limit.
func TestPacketSizeLimitFromDescriptor(t *testing.T) {
	info, ok := linux.ABI().Lookup("bpfhost")
	if !ok {
		t.Fatal("no generic program type")
	}
	prog, err := isa.Assemble(`
		jgt %r2, 100, +2
		mov %r0, 0
		exit
		mov %r1, 0x41414141
		stxdw [%r1], %r1
		mov %r0, 0
		exit`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifier.Verify(prog, verifier.Options{Name: "p", Type: info, ABI: linux.ABI()}); err == nil {
		t.Errorf("limit %d: accepted a store through a scalar for r2 > 100", info.PacketSizeLimit())
	}
	small := *info
	small.MaxPacketSize = 100
	if _, err := verifier.Verify(prog, verifier.Options{Name: "p", Type: &small, ABI: linux.ABI()}); err != nil {
		t.Errorf("limit 100: %v; want the branch judged dead", err)
	}
}
