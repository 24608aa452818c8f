package maps

import (
	"testing"
	"unsafe"
)

// TestOpsByType checks the user-space operations each type lacks or
// restricts, with Linux's error numbers.
func TestOpsByType(t *testing.T) {
	inner := &Spec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}
	cases := []struct {
		spec Spec
		// With a valid-size key of an absent (or index-0) element; del
		// runs after update.
		lookup, update, del, next, lookDel Errno
	}{
		{Spec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}, 0, 0, EINVAL, 0, ENOTSUPP},
		{Spec{Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 1}, ENOENT, 0, 0, ENOENT, ENOENT},
		{Spec{Type: LPMTrie, KeySize: 8, ValueSize: 4, MaxEntries: 1, Flags: FlagNoPrealloc}, ENOENT, 0, 0, ENOENT, ENOTSUPP},
		{Spec{Type: Queue, ValueSize: 4, MaxEntries: 1}, ENOENT, 0, EINVAL, EINVAL, ENOENT},
		{Spec{Type: BloomFilter, ValueSize: 4, MaxEntries: 1}, ENOENT, 0, EOPNOTSUPP, EOPNOTSUPP, EOPNOTSUPP},
		{Spec{Type: ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 1}, ENOENT, EOPNOTSUPP, ENOENT, 0, ENOTSUPP},
		{Spec{Type: HashOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 1, InnerMap: inner}, ENOENT, EOPNOTSUPP, ENOENT, ENOENT, ENOTSUPP},
		{Spec{Type: RingBuf, MaxEntries: 4096}, ENOTSUPP, ENOTSUPP, ENOTSUPP, ENOTSUPP, ENOTSUPP},
		{Spec{Type: PerfEventArray, KeySize: 4, ValueSize: 4, MaxEntries: 1}, ENOTSUPP, EOPNOTSUPP, EOPNOTSUPP, 0, ENOTSUPP},
	}
	for _, c := range cases {
		t.Run(c.spec.Type.String(), func(t *testing.T) {
			c.spec.Name = "m"
			m := mustNew(t, c.spec, 1)
			var key []byte
			if c.spec.KeySize > 0 {
				key = make([]byte, c.spec.KeySize)
			}
			val := make([]byte, c.spec.ValueSize)
			wantErrno(t, "Lookup", m.Lookup(key, val), c.lookup)
			wantErrno(t, "LookupAndDelete", m.LookupAndDelete(key, val), c.lookDel)
			wantErrno(t, "NextKey", m.NextKey(nil, make([]byte, c.spec.KeySize)), c.next)
			wantErrno(t, "Update", m.Update(key, val, UpdateAny), c.update)
			wantErrno(t, "Delete", m.Delete(key), c.del)
			// Frozen and closed maps refuse user-space writes.
			if c.update == 0 {
				m.Freeze()
				wantErrno(t, "Update frozen", m.Update(key, val, UpdateAny), EPERM)
			}
			m.Close()
			wantErrno(t, "Lookup closed", m.Lookup(key, val), EBADF)
			wantErrno(t, "Freeze closed", m.Freeze(), EBADF)
		})
	}
}

// TestReadOnlyProg checks that FlagRdOnlyProg stops every program-side write.
func TestReadOnlyProg(t *testing.T) {
	for _, s := range []Spec{
		{Type: Array, KeySize: 4, ValueSize: 8, MaxEntries: 1},
		{Type: PerCPUHash, KeySize: 4, ValueSize: 8, MaxEntries: 1},
		{Type: LPMTrie, KeySize: 8, ValueSize: 8, MaxEntries: 1, Flags: FlagNoPrealloc},
	} {
		s.Name, s.Flags = "ro", s.Flags|FlagRdOnlyProg
		m := mustNew(t, s, 1).(ElemMap)
		key := make([]byte, s.KeySize)
		wantRet(t, s.Type.String()+" UpdateElem", m.UpdateElem(key, u64(1), 0, 0), EPERM)
		if s.Type != Array { // array elements cannot be deleted at all: EINVAL
			wantRet(t, s.Type.String()+" DeleteElem", m.DeleteElem(key), EPERM)
		}
		if len(m.ValueMemory()) == 0 || uintptr(unsafe.Pointer(&m.ValueMemory()[0]))%8 != 0 {
			t.Errorf("%s: ValueMemory empty or unaligned", s.Type)
		}
	}
	for _, s := range []Spec{{Type: Queue, ValueSize: 8, MaxEntries: 1}, {Type: BloomFilter, ValueSize: 8, MaxEntries: 1}} {
		s.Name, s.Flags = "ro", FlagRdOnlyProg
		m := mustNew(t, s, 1).(QueueMap)
		wantRet(t, s.Type.String()+" PushElem", m.PushElem(u64(1), 0), EPERM)
	}
	q := mustNew(t, Spec{Name: "ro", Type: Stack, ValueSize: 8, MaxEntries: 1, Flags: FlagRdOnlyProg}, 1).(*QueueStackMap)
	q.Push(u64(1), UpdateAny)
	wantRet(t, "PopElem", q.PopElem(make([]byte, 8)), EPERM)
	wantRet(t, "PeekElem", q.PeekElem(make([]byte, 8)), 0)
}
