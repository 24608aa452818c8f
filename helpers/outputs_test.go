package helpers

import (
	"bytes"
	"errors"
	"testing"
	"time"
	"unsafe"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// TestFailedOutputsAreZeroed: the verifier marks a helper's output buffer
// (ARG_PTR_TO_UNINIT_MEM and the like) written after the call whatever
// its result, so a helper that fails, or writes less than the buffer,
// leaves the rest zeroed instead of stale stack (which may hold a spilled
// pointer of a returned function).
func TestFailedOutputsAreZeroed(t *testing.T) {
	poison := func(b []byte) {
		for i := range b {
			b[i] = 0xa5
		}
	}
	zero := func(name string, b []byte) {
		t.Helper()
		if !bytes.Equal(b, make([]byte, len(b))) {
			t.Errorf("%s left % x, want zeroes", name, b)
		}
	}

	e, _, _, cp := xdpEnv(t, 0)
	_, qp := e.newMap(maps.Spec{Name: "q", Type: maps.Queue, ValueSize: 8, MaxEntries: 2}, 1)
	_, sp := e.newMap(maps.Spec{Name: "s", Type: maps.Stack, ValueSize: 8, MaxEntries: 2}, 1)
	buf, bp := e.mem("buf", 8, true)
	for _, c := range []struct {
		name string
		id   platform.HelperID
		m    uint64
	}{{"pop of an empty queue", linux.FnMapPopElem, qp}, {"peek of an empty queue", linux.FnMapPeekElem, qp},
		{"pop of an empty stack", linux.FnMapPopElem, sp}, {"peek of an empty stack", linux.FnMapPeekElem, sp}} {
		poison(buf)
		if r := e.mustCall(c.id, c.m, bp); r != eNOENT {
			t.Errorf("%s = %d, want -ENOENT", c.name, r)
		}
		zero(c.name, buf)
	}

	poison(buf)
	if r := e.mustCall(linux.FnXdpLoadBytes, cp, 62, bp, 4); r != eINVAL {
		t.Errorf("xdp_load_bytes past the end = %d, want -EINVAL", r)
	}
	zero("xdp_load_bytes past the end", buf[:4])
	poison(buf)
	if r := e.mustCall(linux.FnXdpLoadBytes, cp, 0x10000, bp, 4); r != eFAULT {
		t.Errorf("xdp_load_bytes at 0x10000 = %d, want -EFAULT", r)
	}
	zero("xdp_load_bytes at 0x10000", buf[:4])

	s := newEnv(t, vm.Checked)
	rodata, rp := s.mem("rodata", 16, false)
	copy(rodata, "x=%d\x00")
	_, argp := s.mem("args", 8, false)
	out, op := s.mem("out", 16, true)
	poison(out)
	if r := s.mustCall(linux.FnSnprintf, op, 16, rp, argp, 7); r != eINVAL {
		t.Errorf("snprintf with 7 bytes of data = %d, want -EINVAL", r)
	}
	zero("failed snprintf", out)
	poison(out)
	if r := s.mustCall(linux.FnSnprintf, op, 16, rp, argp, 8); r != 4 || string(out[:4]) != "x=0\x00" {
		t.Errorf("snprintf = %d, %q", r, out)
	}
	zero("snprintf's bytes past its output", out[4:])
}

// TestSpinLockGivesUp: a lock word that stays taken (written directly by
// an unverified program, or left by a run that ended early) fails the
// run instead of hanging the host.
func TestSpinLockGivesUp(t *testing.T) {
	defer func(w time.Duration) { spinLockWait = w }(spinLockWait)
	spinLockWait = 20 * time.Millisecond
	e := newEnv(t, vm.Checked)
	word, wp := e.mem("lock", 4, true)
	if r := e.mustCall(linux.FnSpinLock, wp); r != 0 || word[0] != 1 {
		t.Fatalf("spin_lock = %d, word % x", r, word)
	}
	done := make(chan error, 1)
	go func() {
		_, err := e.call(linux.FnSpinLock, wp)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrLockTimeout) {
			t.Errorf("spin_lock of a taken word: %v, want ErrLockTimeout", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("spin_lock of a taken word did not give up")
	}
	if r := e.mustCall(linux.FnSpinUnlock, wp); r != 0 || word[0] != 0 {
		t.Errorf("spin_unlock = %d, word % x", r, word)
	}
}

// TestReleaseHeld: Release unlocks what a run still holds, past the few
// items kept inline, and nothing it gave back itself.
func TestReleaseHeld(t *testing.T) {
	var words [6]uint32
	var r Run
	for i := range words {
		words[i] = 1
		r.held.add(heldItem{addr: unsafe.Pointer(&words[i])})
	}
	r.held.remove(unsafe.Pointer(&words[1]))
	r.held.remove(unsafe.Pointer(&words[5]))
	r.Release()
	if want := [6]uint32{0, 1, 0, 0, 0, 1}; words != want {
		t.Errorf("lock words after Release: %v, want %v", words, want)
	}
	if r.held.n != 0 {
		t.Errorf("%d items still held", r.held.n)
	}
}
