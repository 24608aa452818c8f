package oracle

import (
	"strconv"
	"testing"
	"unsafe"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
)

// trackedRun runs src in the interpreter with the given helpers, stepping
// a Tracker, and calls at for the tracker before every instruction.
func trackedRun(t *testing.T, src string, helpers vm.Helpers, at func(pc int, tr *Tracker)) *Tracker {
	t.Helper()
	prog, err := isa.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	exe, err := interp.New().Compile(&vm.Program{Instructions: prog, Helpers: helpers}, vm.CompileOptions{Mode: vm.Checked})
	if err != nil {
		t.Fatal(err)
	}
	rc := &vm.RunContext{}
	tr := &Tracker{Mem: &Memory{RC: rc}, Insns: prog, Helper: linux.ABI().HelperByID}
	rc.Trace = func(_ vm.Executable, pc int, regs *[11]uint64) {
		tr.Step(pc, regs, rc.Depth)
		if at != nil {
			at(pc, tr)
		}
	}
	if _, err := exe.Run(rc); err != nil {
		t.Fatal(err)
	}
	return tr
}

// writtenAt reports whether the byte at r10+off of the frame at depth is
// written in tr.
func writtenAt(tr *Tracker, depth, off int) bool {
	i := off + vm.StackSize
	return tr.Written(depth)[i/64]&(1<<(i%64)) != 0
}

// TestTrackerStores checks that stores mark exactly their bytes, and that a
// called function's frame starts unwritten on every entry.
func TestTrackerStores(t *testing.T) {
	var inCallee [][8]uint64
	trackedRun(t, `
		stw [r10-8], 1
		sth [r10-2], 2
		call local f
		call local f
		mov r0, 0
		exit
	f:
		stb [r10-16], 3
		mov r0, 0
		exit
	`, nil, func(pc int, tr *Tracker) {
		switch pc {
		case 2:
			for off := -10; off < 0; off++ {
				if want := off >= -8 && off < -4 || off >= -2; writtenAt(tr, 0, off) != want {
					t.Errorf("before the call: byte r10%+d written %v, want %v", off, !want, want)
				}
			}
		case 6, 7:
			inCallee = append(inCallee, *tr.Written(1))
		}
	})
	// Two calls: at their first instruction nothing is written, at their
	// second the byte stored.
	if len(inCallee) != 4 || inCallee[0] != [8]uint64{} || inCallee[2] != [8]uint64{} {
		t.Fatalf("callee frames at entry: %v", inCallee)
	}
	for _, w := range []int{1, 3} {
		if inCallee[w] != ([8]uint64{7: 1 << 48}) { // byte 496: r10-16
			t.Errorf("callee frame after its store: %x", inCallee[w])
		}
	}
}

// TestTrackerHelperOutput checks that a helper's output buffer counts as
// written when the helper writes it, and stays unwritten when it fails
// without writing (holding again what it held), even where it writes the
// bytes the stack held.
func TestTrackerHelperOutput(t *testing.T) {
	const src = `
		mov r1, r10
		add r1, -16
		mov r2, 16
		call 16
		mov r0, 0
		exit
	`
	for _, c := range []struct {
		name  string
		write func(b []byte)
		want  bool
	}{
		{"fills", func(b []byte) { copy(b, "bpfhost") }, true},
		{"zeroes", func(b []byte) { clear(b) }, true}, // the stack held zeroes: poison tells
		{"fails", func(b []byte) {}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			helpers := vm.Helpers{int32(linux.FnGetCurrentComm): func(rc *vm.RunContext, r1, r2, _, _, _ uint64) (uint64, error) {
				c.write(vm.Bytes(r1, int(r2)))
				return 0, nil
			}}
			// Bytes left unwritten hold again what they held (the
			// checked run starts with a zeroed frame), not the fill.
			var after []byte
			tr := trackedRun(t, src, helpers, func(pc int, tr *Tracker) {
				if pc == 4 {
					after = append(after, tr.frameBytes(0)[vm.StackSize-16:]...)
				}
			})
			if !c.want && string(after) != string(make([]byte, 16)) {
				t.Fatalf("after the failed call the buffer holds %x, want the zeroes it held", after)
			}
			for off := -16; off < 0; off++ {
				if writtenAt(tr, 0, off) != c.want {
					t.Fatalf("byte r10%+d written %v, want %v", off, !c.want, c.want)
				}
			}
			if writtenAt(tr, 0, -17) {
				t.Fatalf("byte r10-17 written")
			}
		})
	}
}

// TestTrackerHeld checks records and locks as helpers hand them out and
// take them back.
func TestTrackerHeld(t *testing.T) {
	rec := make([]byte, 16)
	var lockWord [8]byte
	helpers := vm.Helpers{
		int32(linux.FnRingbufReserve): func(rc *vm.RunContext, r1, r2, _, _, _ uint64) (uint64, error) {
			return vmAddr(rec), nil
		},
		int32(linux.FnRingbufSubmit): func(*vm.RunContext, uint64, uint64, uint64, uint64, uint64) (uint64, error) { return 0, nil },
		int32(linux.FnSpinLock):      func(*vm.RunContext, uint64, uint64, uint64, uint64, uint64) (uint64, error) { return 0, nil },
		int32(linux.FnSpinUnlock):    func(*vm.RunContext, uint64, uint64, uint64, uint64, uint64) (uint64, error) { return 0, nil },
	}
	lock := vmAddr(lockWord[:])
	var records []int
	var locks []uint64
	trackedRun(t, `
		mov r2, 8
		call 131
		mov r6, r0
		lddw r1, `+strconv.FormatUint(lock, 10)+`
		call 93
		lddw r1, `+strconv.FormatUint(lock, 10)+`
		call 94
		mov r1, r6
		call 132
		mov r0, 0
		exit
	`, helpers, func(pc int, tr *Tracker) {
		records = append(records, len(tr.Records()))
		locks = append(locks, tr.Lock())
		if pc == 2 && (tr.Records()[0].Site != 1 || tr.Records()[0].Depth != 0 || tr.Records()[0].Start != vmAddr(rec)) {
			t.Errorf("record %+v, want reserved at insn 1 in depth 0", tr.Records()[0])
		}
	})
	// Steps at insns 0, 1, 2, 3 (lddw), 5, 6 (lddw), 8, 9, 10, 11, 12.
	wantRecords := []int{0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0}
	wantLocks := []uint64{0, 0, 0, 0, 0, lock, lock, 0, 0, 0, 0}
	if len(records) != len(wantRecords) {
		t.Fatalf("%d steps, want %d", len(records), len(wantRecords))
	}
	for i := range records {
		if records[i] != wantRecords[i] || locks[i] != wantLocks[i] {
			t.Errorf("step %d: %d records, lock %#x; want %d, %#x", i, records[i], locks[i], wantRecords[i], wantLocks[i])
		}
	}
}

func vmAddr(b []byte) uint64 { return vm.Address(unsafe.Pointer(&b[0])) }

// TestTrackerTailCall checks that a taken tail call is reported, that the
// entry frame starts unwritten after it, and that what the run holds is
// carried over.
func TestTrackerTailCall(t *testing.T) {
	prog, err := isa.Assemble(`
		jne r1, 0, second
		stdw [r10-8], 1
		mov r1, 1
		call 131
		mov r1, 1
		call 12
		mov r0, 1
		exit
	second:
		mov r0, 0
		exit
	`)
	if err != nil {
		t.Fatal(err)
	}
	rec := make([]byte, 8)
	var exe vm.Executable
	helpers := vm.Helpers{
		int32(linux.FnRingbufReserve): func(*vm.RunContext, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
			return vmAddr(rec), nil
		},
		int32(linux.FnTailCall): func(rc *vm.RunContext, r1, _, _, _, _ uint64) (uint64, error) {
			rc.TailCall, rc.Args[0] = exe, r1
			return 0, nil
		},
	}
	exe, err = interp.New().Compile(&vm.Program{Instructions: prog, Helpers: helpers}, vm.CompileOptions{Mode: vm.Checked})
	if err != nil {
		t.Fatal(err)
	}
	rc := &vm.RunContext{}
	tr := &Tracker{Mem: &Memory{RC: rc}, Insns: prog, Helper: linux.ABI().HelperByID}
	var tails []int
	var afterTail [][8]uint64
	var heldAfter []int
	rc.Trace = func(_ vm.Executable, pc int, regs *[11]uint64) {
		if _, tail := tr.Step(pc, regs, rc.Depth); tail {
			tails = append(tails, pc)
			afterTail = append(afterTail, *tr.Written(0))
			heldAfter = append(heldAfter, len(tr.Records()))
		}
	}
	if r0, err := vm.Run(exe, rc); err != nil || r0 != 0 {
		t.Fatalf("run: %d, %v", r0, err)
	}
	if len(tails) != 1 || tails[0] != 0 || afterTail[0] != [8]uint64{} || heldAfter[0] != 1 {
		t.Fatalf("tail calls seen at %v, frame written after %x, records held after %v; want one at insn 0, nothing written, 1 record", tails, afterTail, heldAfter)
	}
}

// TestTrackerNest checks that the frames of a program whose subprogram's
// tail call runs its target in place are kept apart from the target's:
// the target starts unwritten, and the caller's written bytes are back
// when it returns.
func TestTrackerNest(t *testing.T) {
	prog, err := isa.Assemble(`
		stdw [r10-8], 1
		call local f
		exit
	f:
		stdw [r10-16], 2
		call 12
		exit
	`)
	if err != nil {
		t.Fatal(err)
	}
	var target vm.Executable
	helpers := vm.Helpers{int32(linux.FnTailCall): func(rc *vm.RunContext, r1, _, _, _, _ uint64) (uint64, error) {
		if rc.TailCalls == 0 {
			rc.TailCall, rc.Args[0] = target, r1
			rc.TailCalls++
		}
		return 0, nil
	}}
	exe, err := interp.New().Compile(&vm.Program{Instructions: prog, Helpers: helpers}, vm.CompileOptions{Mode: vm.Checked})
	if err != nil {
		t.Fatal(err)
	}
	target = exe // the program itself, in f's place
	rc := &vm.RunContext{}
	tr := &Tracker{Mem: &Memory{RC: rc}, Insns: prog, Helper: linux.ABI().HelperByID}
	level := 0
	var atTargetStart, atReturn [8]uint64
	rc.Trace = func(_ vm.Executable, pc int, regs *[11]uint64) {
		for ; level < rc.TailNesting(); level++ {
			tr.Nest()
			atTargetStart = *tr.Written(0)
		}
		for ; level > rc.TailNesting(); level-- {
			tr.Unnest()
			atReturn = *tr.Written(0)
		}
		tr.Step(pc, regs, rc.Depth)
	}
	if _, err := vm.Run(exe, rc); err != nil {
		t.Fatal(err)
	}
	// Bit 504 of the frame's 512: the byte at r10-8, which the caller
	// wrote before the call.
	if atTargetStart != [8]uint64{} || atReturn[7]>>56 != 0xff {
		t.Errorf("target's frame at its start %x, caller's at the return %x; want none written, then r10-8 written", atTargetStart, atReturn)
	}
}
