package maps

import (
	"bytes"
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

func TestArrayUpdateErrors(t *testing.T) {
	lockSpec := Spec{Name: "locked", Type: Array, KeySize: 4, ValueSize: 16, MaxEntries: 4, HasSpinLock: true, SpinLockOffset: 0}
	plain := Spec{Name: "a", Type: Array, KeySize: 4, ValueSize: 8, MaxEntries: 4}
	percpu := Spec{Name: "p", Type: PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 4}
	cases := []struct {
		name  string
		spec  Spec
		key   uint32
		flags UpdateFlags
		want  Errno
	}{
		{"any", plain, 1, UpdateAny, 0},
		{"exist", plain, 1, UpdateExist, 0},
		{"noexist", plain, 1, UpdateNoExist, EEXIST},
		{"index too big", plain, 4, UpdateAny, E2BIG},
		{"bad flags", plain, 1, 3, EINVAL},
		{"bad flags before index", plain, 9, 8, EINVAL},
		{"lock without spin lock", plain, 1, UpdateLock, EINVAL},
		{"lock", lockSpec, 1, UpdateLock, 0},
		{"lock exist", lockSpec, 1, UpdateLock | UpdateExist, 0},
		{"percpu any", percpu, 3, UpdateAny, 0},
		{"percpu noexist", percpu, 3, UpdateNoExist, EEXIST},
		{"percpu lock", percpu, 3, UpdateLock, EINVAL},
		{"percpu index", percpu, 4, UpdateAny, E2BIG},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := mustNew(t, c.spec, 2).(*ArrayMap)
			val := make([]byte, c.spec.userValueSize(2))
			wantErrno(t, "Update", m.Update(u32(c.key), val, c.flags), c.want)
			wantRet(t, "UpdateElem", m.UpdateElem(u32(c.key), make([]byte, c.spec.ValueSize), uint64(c.flags), 1), c.want)
		})
	}
}

func TestArrayOps(t *testing.T) {
	m := mustNew(t, Spec{Name: "a", Type: Array, KeySize: 4, ValueSize: 12, MaxEntries: 3}, 2).(*ArrayMap)
	val := []byte("hello world!")
	wantErrno(t, "Update", m.Update(u32(2), val, UpdateAny), 0)
	out := make([]byte, 12)
	wantErrno(t, "Lookup", m.Lookup(u32(2), out), 0)
	if !bytes.Equal(out, val) {
		t.Errorf("Lookup = %q", out)
	}
	wantErrno(t, "Lookup missing", m.Lookup(u32(3), out), ENOENT)
	wantErrno(t, "Lookup short value", m.Lookup(u32(2), out[:4]), EINVAL)
	wantErrno(t, "Lookup short key", m.Lookup([]byte{1}, out), EINVAL)
	wantErrno(t, "Delete", m.Delete(u32(1)), EINVAL)
	wantErrno(t, "LookupAndDelete", m.LookupAndDelete(u32(1), out), ENOTSUPP)
	wantRet(t, "DeleteElem", m.DeleteElem(u32(1)), EINVAL)

	p := m.LookupPtr(u32(2), 0)
	if p == nil || !bytes.Equal(unsafe.Slice((*byte)(p), 12), val) {
		t.Fatal("LookupPtr does not see the value")
	}
	if uintptr(p)%8 != 0 {
		t.Errorf("value at %p not 8-byte aligned", p)
	}
	if m.LookupPtr(u32(3), 0) != nil || m.LookupPtr([]byte{0}, 0) != nil {
		t.Error("LookupPtr out of range not nil")
	}
	if m.ValuePtr(2, 0) != p || m.ValuePtr(3, 0) != nil {
		t.Error("ValuePtr")
	}
	// Writes through the pointer are what user space sees.
	copy(unsafe.Slice((*byte)(p), 12), "HELLO")
	m.Lookup(u32(2), out)
	if string(out) != "HELLO world!" {
		t.Errorf("after program write: %q", out)
	}

	// NextKey: nil and out of range start at 0; the last ends.
	next := make([]byte, 4)
	for _, c := range []struct {
		key  []byte
		want uint32
		err  Errno
	}{{nil, 0, 0}, {u32(0), 1, 0}, {u32(1), 2, 0}, {u32(2), 0, ENOENT}, {u32(7), 0, 0}} {
		err := m.NextKey(c.key, next)
		wantErrno(t, "NextKey", err, c.err)
		if err == nil && binary.NativeEndian.Uint32(next) != c.want {
			t.Errorf("NextKey(%v) = %d, want %d", c.key, binary.NativeEndian.Uint32(next), c.want)
		}
	}

	var keys []uint32
	n := m.ForEach(0, func(k, v unsafe.Pointer) bool {
		keys = append(keys, *(*uint32)(k))
		return len(keys) < 2
	})
	if n != 2 || len(keys) != 2 || keys[1] != 1 {
		t.Errorf("ForEach stopped after %d: %v", n, keys)
	}
}

func TestPerCPUArrayLayout(t *testing.T) {
	const slots = 3
	m := mustNew(t, Spec{Name: "p", Type: PerCPUArray, KeySize: 4, ValueSize: 5, MaxEntries: 2}, slots).(*ArrayMap)
	// User space: each value rounded to 8 bytes, slot after slot.
	in := make([]byte, 8*slots)
	for s := 0; s < slots; s++ {
		copy(in[8*s:], []byte{byte(s), 1, 2, 3, 4, 0xff, 0xff, 0xff})
	}
	wantErrno(t, "Update short", m.Update(u32(1), in[:8], UpdateAny), EINVAL)
	wantErrno(t, "Update", m.Update(u32(1), in, UpdateAny), 0)
	for s := 0; s < slots; s++ {
		p := m.LookupPtr(u32(1), s)
		if got := unsafe.Slice((*byte)(p), 5); !bytes.Equal(got, []byte{byte(s), 1, 2, 3, 4}) {
			t.Errorf("slot %d sees %v", s, got)
		}
		if m.LookupPercpuElem(u32(1), s) != p {
			t.Errorf("LookupPercpuElem(%d) differs", s)
		}
	}
	if m.LookupPtr(u32(1), slots) != nil || m.LookupPercpuElem(u32(1), -1) != nil {
		t.Error("slot out of range not nil")
	}
	// Programs write their own slot only.
	wantRet(t, "UpdateElem", m.UpdateElem(u32(1), []byte{9, 9, 9, 9, 9}, 0, 2), 0)
	out := make([]byte, 8*slots)
	wantErrno(t, "Lookup", m.Lookup(u32(1), out), 0)
	want := []byte{0, 1, 2, 3, 4, 0, 0, 0, 1, 1, 2, 3, 4, 0, 0, 0, 9, 9, 9, 9, 9, 0, 0, 0}
	if !bytes.Equal(out, want) {
		t.Errorf("Lookup = %v, want %v (padding zeroed)", out, want)
	}
}

func TestArrayAccessFlags(t *testing.T) {
	ro := mustNew(t, Spec{Name: ".rodata", Type: Array, KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: FlagRdOnlyProg}, 1).(*ArrayMap)
	wantErrno(t, "user Update of rdonly_prog", ro.Update(u32(0), u64(7), UpdateAny), 0)
	wantRet(t, "UpdateElem of rdonly_prog", ro.UpdateElem(u32(0), u64(8), 0, 0), EPERM)
	wantErrno(t, "Freeze", ro.Freeze(), 0)
	if !ro.Frozen() {
		t.Error("not frozen")
	}
	wantErrno(t, "Update frozen", ro.Update(u32(0), u64(9), UpdateAny), EPERM)
	out := make([]byte, 8)
	wantErrno(t, "Lookup frozen", ro.Lookup(u32(0), out), 0)
	if binary.NativeEndian.Uint64(out) != 7 {
		t.Errorf("value %v", out)
	}

	rdonly := mustNew(t, Spec{Name: "r", Type: Array, KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: FlagRdOnly}, 1)
	wantErrno(t, "Update rdonly", rdonly.Update(u32(0), u64(1), UpdateAny), EPERM)
	wronly := mustNew(t, Spec{Name: "w", Type: Array, KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: FlagWrOnly}, 1)
	wantErrno(t, "Lookup wronly", wronly.Lookup(u32(0), out), EPERM)
	wantErrno(t, "Update wronly", wronly.Update(u32(0), u64(1), UpdateAny), 0)

	wantErrno(t, "Close", wronly.Close(), 0)
	wantErrno(t, "Update closed", wronly.Update(u32(0), u64(1), UpdateAny), EBADF)
}

func TestArraySpinLock(t *testing.T) {
	m := mustNew(t, Spec{Name: "l", Type: Array, KeySize: 4, ValueSize: 16, MaxEntries: 1, HasSpinLock: true, SpinLockOffset: 4}, 1).(*ArrayMap)
	p := m.LookupPtr(u32(0), 0)
	lock := (*uint32)(unsafe.Add(p, 4))
	// The lock word survives copies and reads back as 0.
	SpinLock(unsafe.Pointer(lock))
	in := bytes.Repeat([]byte{0xab}, 16)
	done := make(chan struct{})
	go func() {
		m.Update(u32(0), in, UpdateLock) // waits for the lock
		close(done)
	}()
	time.Sleep(10 * time.Millisecond)
	select {
	case <-done:
		t.Fatal("BPF_F_LOCK update did not wait for the lock")
	default:
	}
	SpinUnlock(unsafe.Pointer(lock))
	<-done
	if atomic.LoadUint32(lock) != 0 {
		t.Error("lock word left taken")
	}
	m.Update(u32(0), in, UpdateAny)
	if atomic.LoadUint32(lock) != 0 {
		t.Error("plain update wrote the lock word")
	}
	out := make([]byte, 16)
	m.LookupWithFlags(u32(0), out, UpdateLock)
	want := append(append(bytes.Repeat([]byte{0xab}, 4), 0, 0, 0, 0), bytes.Repeat([]byte{0xab}, 8)...)
	if !bytes.Equal(out, want) {
		t.Errorf("Lookup = %x, want %x", out, want)
	}
}
