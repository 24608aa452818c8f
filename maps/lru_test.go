package maps

import (
	"encoding/binary"
	"slices"
	"testing"
)

func TestLRUEviction(t *testing.T) {
	// Each step: "u K" updates (program side), "l K" looks up (program
	// side), "s K" looks up from user space (does not mark). want lists
	// the keys present afterwards.
	cases := []struct {
		name  string
		steps []string
		want  []uint32
	}{
		{"oldest insert goes first", []string{"u1", "u2", "u3", "u4"}, []uint32{2, 3, 4}},
		{"lookup saves", []string{"u1", "u2", "u3", "l1", "u4"}, []uint32{1, 3, 4}},
		{"update refreshes", []string{"u1", "u2", "u3", "u1", "u4"}, []uint32{1, 3, 4}},
		{"user lookup does not mark", []string{"u1", "u2", "u3", "s1", "u4"}, []uint32{2, 3, 4}},
		{"second chance is once", []string{"u1", "u2", "u3", "l1", "u4", "u5", "u6"}, []uint32{4, 5, 6}},
		{"all looked up: FIFO", []string{"u1", "u2", "u3", "l3", "l2", "l1", "u4"}, []uint32{2, 3, 4}},
		{"delete frees without evicting", []string{"u1", "u2", "u3", "d2", "u4"}, []uint32{1, 3, 4}},
		{"chain of evictions", []string{"u1", "u2", "u3", "u4", "u5", "l4", "u6", "u7"}, []uint32{4, 6, 7}},
	}
	for _, typ := range []Type{LRUHash, LRUPerCPUHash} {
		for _, c := range cases {
			t.Run(typ.String()+"/"+c.name, func(t *testing.T) {
				m := mustNew(t, Spec{Name: "lru", Type: typ, KeySize: 4, ValueSize: 4, MaxEntries: 3}, 2).(*HashMap)
				out := make([]byte, m.spec.userValueSize(2))
				for _, st := range c.steps {
					k := u32(uint32(st[1] - '0'))
					switch st[0] {
					case 'u':
						wantRet(t, st, m.UpdateElem(k, u32(7), 0, 0), 0)
					case 'l':
						if m.LookupPtr(k, 1) == nil {
							t.Fatalf("%s: not found", st)
						}
					case 's':
						wantErrno(t, st, m.Lookup(k, out), 0)
					case 'd':
						wantRet(t, st, m.DeleteElem(k), 0)
					}
				}
				var got []uint32
				for _, k := range keysOf(t, m) {
					got = append(got, binary.NativeEndian.Uint32(k))
				}
				slices.Sort(got)
				if !slices.Equal(got, c.want) {
					t.Errorf("keys %v, want %v", got, c.want)
				}
			})
		}
	}
}

func TestLRUNoExistWhenFull(t *testing.T) {
	m := mustNew(t, Spec{Name: "lru", Type: LRUHash, KeySize: 4, ValueSize: 4, MaxEntries: 2}, 1)
	m.Update(u32(1), u32(1), UpdateAny)
	m.Update(u32(2), u32(2), UpdateAny)
	// NOEXIST of a new key still evicts; EXIST of a missing key fails
	// without evicting.
	wantErrno(t, "Update exist missing", m.Update(u32(3), u32(3), UpdateExist), ENOENT)
	wantErrno(t, "Update noexist existing", m.Update(u32(2), u32(3), UpdateNoExist), EEXIST)
	if got := len(keysOf(t, m)); got != 2 {
		t.Errorf("%d keys, want 2", got)
	}
	wantErrno(t, "Update noexist new", m.Update(u32(3), u32(3), UpdateNoExist), 0)
	out := make([]byte, 4)
	wantErrno(t, "Lookup evicted", m.Lookup(u32(1), out), ENOENT)
}
