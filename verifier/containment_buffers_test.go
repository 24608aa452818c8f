package verifier

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// violationOver runs prog through the harness with seeds 0 to 15 and
// returns the first violation.
func violationOver(t *testing.T, prog []isa.Instruction, maps []MapInfo, h harness) error {
	t.Helper()
	for seed := uint64(0); seed < 16; seed++ {
		h := h
		h.t, h.info, h.rng = t, xdpInfo(t), rand.New(rand.NewPCG(seed, 3))
		if v := h.try(prog, maps); v != nil {
			return v.err
		}
		if h.accepted != 1 || h.runs == 0 {
			t.Fatalf("the program is rejected or never ran")
		}
	}
	return nil
}

func wantViolation(t *testing.T, err error, want string) {
	t.Helper()
	var cv *Violation
	if err == nil || !errors.As(err, &cv) || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want a containment violation containing %q", err, want)
	}
}

// queue is a queue of 8-byte values, for bpf_map_peek_elem.
var queue = MapInfo{Name: "q", Type: linux.MapQueue, ValueSize: 8, MaxEntries: 4}

// TestContainmentMapValueBuffer checks that a map value output buffer
// (bpf_map_peek_elem's) counts as written over the map's value size: all
// of it when the helper fills it, no byte beyond it.
func TestContainmentMapValueBuffer(t *testing.T) {
	prog := assembleMaps(t, `
		lddw r1, 0
		mov r2, r10
		add r2, -16
		call 89
		ldxdw r0, [r10-16]
		mov r0, 0
		exit`)
	maps := []MapInfo{queue}
	// Honest: the 8 bytes the helper fills (or zeroes) are written.
	if err := violationOver(t, prog, maps, harness{}); err != nil {
		t.Fatalf("honest verification: %v", err)
	}
	// The state after the call believes 16 bytes initialised: the ninth
	// was never written.
	broken := func(c *Containment) {
		eachKept(c, func(s *state) { s.frames[0].init.setRange(frameSize-16, frameSize, true) }, 5)
	}
	wantViolation(t, violationOver(t, prog, maps, harness{broken: broken}), "frame 0 byte r10-8 was never written")
}

// TestContainmentEntryFrameBuffer checks a helper's output buffer in the
// entry frame of a program whose helpers may read unwritten bytes there
// (Result.ZeroEntryFrame): a helper that fails without writing it,
// although the verifier believes it written whatever the result, is
// reported, and the honest helper (which zeroes it on failure) is not.
func TestContainmentEntryFrameBuffer(t *testing.T) {
	prog := assembleMaps(t, `
		lddw r1, 0
		mov r2, r10
		add r2, -4
		call 1
		lddw r1, 1
		mov r2, r10
		add r2, -16
		call 89
		mov r0, 0
		exit`)
	maps := []MapInfo{{Name: "arr", Type: linux.MapArray, KeySize: 4, ValueSize: 8, MaxEntries: 4}, queue}
	res, err := Verify(prog, Options{Type: xdpInfo(t), ABI: linux.ABI(), Maps: maps})
	if err != nil {
		t.Fatal(err)
	}
	if !res.ZeroEntryFrame {
		t.Fatal("the lookup's unwritten key does not make the entry frame zeroed: the test checks the wrong case")
	}
	if err := violationOver(t, prog, maps, harness{}); err != nil {
		t.Fatalf("honest helper: %v", err)
	}
	// A peek that fails without writing its buffer (before the fix the
	// tracker left entry-frame buffers of such programs unfilled and
	// counted them written).
	lazy := vm.Helpers{int32(linux.FnMapPeekElem): func(*vm.RunContext, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
		return ^uint64(1), nil // -ENOENT
	}}
	wantViolation(t, violationOver(t, prog, maps, harness{helpers: lazy}), "frame 0 byte r10-16 was never written")
}

// TestContainmentLeakedAddress checks the leak check of the containment
// oracle (Concrete.Owned): a number the verifier has that is an address
// of the run's memory is reported. Here a bpf_ktime_get_ns that breaks its
// contract returns the frame pointer, which the program stores in the
// map value; the honest helper's numbers pass.
func TestContainmentLeakedAddress(t *testing.T) {
	prog := assembleMaps(t, `
		stw [r10-4], 0
		lddw r1, 0
		mov r2, r10
		add r2, -4
		call 1
		jeq r0, 0, +3
		mov r6, r0
		call 5
		stxdw [r6+0], r0
		mov r0, 0
		exit`)
	if err := violationOver(t, prog, fuzzMaps, harness{}); err != nil {
		t.Fatalf("honest helper: %v", err)
	}
	leaky := vm.Helpers{int32(linux.FnKtimeGetNs): func(rc *vm.RunContext, _, _, _, _, _ uint64) (uint64, error) {
		return rc.Stack().FramePointer(rc.Depth), nil
	}}
	wantViolation(t, violationOver(t, prog, fuzzMaps, harness{helpers: leaky}), "an address of the run's memory")
}
