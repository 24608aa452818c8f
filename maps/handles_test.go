package maps

import (
	"encoding/binary"
	"testing"
)

type fakeProg struct{ id uint32 }

func (p *fakeProg) ID() uint32 { return p.id }

func TestProgramArray(t *testing.T) {
	m := mustNew(t, Spec{Name: "jmp", Type: ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 4}, 1).(*HandleArrayMap)
	p := &fakeProg{id: 42}
	wantErrno(t, "SetHandle", m.SetHandle(u32(1), p, UpdateAny), 0)
	wantErrno(t, "SetHandle noexist", m.SetHandle(u32(1), p, UpdateNoExist), EINVAL)
	wantErrno(t, "SetHandle out of range", m.SetHandle(u32(4), p, UpdateAny), E2BIG)
	wantErrno(t, "SetHandle nil", m.SetHandle(u32(2), nil, UpdateAny), EINVAL)
	if m.HandleAt(1) != p || m.Handle(u32(1)) != p || m.HandleAt(0) != nil || m.HandleAt(9) != nil {
		t.Error("HandleAt")
	}
	out := make([]byte, 4)
	wantErrno(t, "Lookup", m.Lookup(u32(1), out), 0)
	if binary.NativeEndian.Uint32(out) != 42 {
		t.Error("Lookup does not return the ID")
	}
	wantErrno(t, "Lookup empty", m.Lookup(u32(0), out), ENOENT)
	wantErrno(t, "Update bytes", m.Update(u32(0), out, UpdateAny), EOPNOTSUPP)
	wantErrno(t, "Delete empty", m.Delete(u32(0)), ENOENT)
	wantErrno(t, "Delete out of range", m.Delete(u32(4)), EINVAL)
	wantErrno(t, "Delete", m.Delete(u32(1)), 0)
	if m.HandleAt(1) != nil {
		t.Error("deleted handle still there")
	}
	if got := len(keysOf(t, m)); got != 4 {
		t.Errorf("NextKey iterated %d indexes", got)
	}
}

func TestMapInMap(t *testing.T) {
	inner := Spec{Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 16}
	good := mustNew(t, Spec{Name: "in", Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 16}, 1)
	bigger := mustNew(t, Spec{Name: "big", Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 32}, 1)
	otherType := mustNew(t, Spec{Name: "arr", Type: Array, KeySize: 4, ValueSize: 8, MaxEntries: 16}, 1)
	for _, outer := range []Spec{
		{Name: "aom", Type: ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 2, InnerMap: &inner},
		{Name: "hom", Type: HashOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 2, InnerMap: &inner},
	} {
		t.Run(outer.Type.String(), func(t *testing.T) {
			m := mustNew(t, outer, 1).(HandleMap)
			wantErrno(t, "SetHandle", m.SetHandle(u32(0), good, UpdateAny), 0)
			wantErrno(t, "SetHandle bigger", m.SetHandle(u32(1), bigger, UpdateAny), EINVAL)
			wantErrno(t, "SetHandle other type", m.SetHandle(u32(1), otherType, UpdateAny), EINVAL)
			wantErrno(t, "SetHandle not a map", m.SetHandle(u32(1), &fakeProg{}, UpdateAny), EINVAL)
			if m.Handle(u32(0)) != good || m.Handle(u32(1)) != nil {
				t.Error("Handle")
			}
			wantErrno(t, "Lookup without ID", m.Lookup(u32(0), make([]byte, 4)), EOPNOTSUPP)
			wantErrno(t, "Delete", m.Delete(u32(0)), 0)
			wantErrno(t, "Delete again", m.Delete(u32(0)), ENOENT)
			if m.Handle(u32(0)) != nil {
				t.Error("deleted inner map still there")
			}
		})
	}
	// BPF_F_INNER_MAP lets inner maps differ in size.
	flexible := inner
	flexible.Flags = FlagInnerMap
	flexible.Type = Array
	flexible.KeySize = 4
	m := mustNew(t, Spec{Name: "aom", Type: ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 2, InnerMap: &flexible}, 1).(HandleMap)
	a := mustNew(t, Spec{Type: Array, KeySize: 4, ValueSize: 8, MaxEntries: 1000, Flags: FlagInnerMap}, 1)
	wantErrno(t, "SetHandle any size", m.SetHandle(u32(0), a, UpdateAny), 0)

	// An inner map with a bpf_spin_lock (or timer) the template lacks, or
	// has elsewhere: programs verified against the template could write
	// its lock word as data, and the next bpf_spin_lock would wait in
	// vain (a verified program did, through an array of maps).
	locked := mustNew(t, Spec{Name: "locked", Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 16, HasSpinLock: true}, 1)
	timed := mustNew(t, Spec{Name: "timed", Type: Hash, KeySize: 4, ValueSize: 16, MaxEntries: 16, HasTimer: true}, 1)
	plain := mustNew(t, Spec{Type: ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 1, InnerMap: &inner}, 1).(HandleMap)
	wantErrno(t, "SetHandle with a lock the template lacks", plain.SetHandle(u32(0), locked, UpdateAny), EINVAL)
	lockedAt4 := inner
	lockedAt4.HasSpinLock, lockedAt4.SpinLockOffset = true, 4
	elsewhere := mustNew(t, Spec{Type: ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 1, InnerMap: &lockedAt4}, 1).(HandleMap)
	wantErrno(t, "SetHandle with the lock elsewhere", elsewhere.SetHandle(u32(0), locked, UpdateAny), EINVAL)
	lockedAt0 := inner
	lockedAt0.HasSpinLock = true
	same := mustNew(t, Spec{Type: ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 1, InnerMap: &lockedAt0}, 1).(HandleMap)
	wantErrno(t, "SetHandle with the template's lock", same.SetHandle(u32(0), locked, UpdateAny), 0)
	timedTmpl := inner
	timedTmpl.ValueSize = 16
	untimed := mustNew(t, Spec{Type: ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 1, InnerMap: &timedTmpl}, 1).(HandleMap)
	wantErrno(t, "SetHandle with a timer the template lacks", untimed.SetHandle(u32(0), timed, UpdateAny), EINVAL)

	hom := mustNew(t, Spec{Name: "hom", Type: HashOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 1, InnerMap: &inner}, 1).(HandleMap)
	wantErrno(t, "SetHandle exist missing", hom.SetHandle(u32(1), good, UpdateExist), ENOENT)
	wantErrno(t, "SetHandle", hom.SetHandle(u32(1), good, UpdateNoExist), 0)
	wantErrno(t, "SetHandle noexist", hom.SetHandle(u32(1), good, UpdateNoExist), EEXIST)
	wantErrno(t, "SetHandle full", hom.SetHandle(u32(2), good, UpdateAny), E2BIG)
}
