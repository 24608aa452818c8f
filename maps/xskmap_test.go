package maps

import (
	"encoding/binary"
	"errors"
	"testing"
)

// TestXSKMap: an xskmap is created as Linux's xsk_map_alloc allows, user
// space cannot fill it (bpfhost has no AF_XDP sockets) nor read it, and
// programs find no socket in it.
func TestXSKMap(t *testing.T) {
	for _, bad := range []Spec{
		{Type: XSKMap, KeySize: 4, ValueSize: 8, MaxEntries: 4},
		{Type: XSKMap, KeySize: 8, ValueSize: 4, MaxEntries: 4},
		{Type: XSKMap, KeySize: 4, ValueSize: 4},
		{Type: XSKMap, KeySize: 4, ValueSize: 4, MaxEntries: 4, Flags: FlagNoPrealloc},
	} {
		if _, err := New(bad, 1); !errors.Is(err, ErrInvalid) {
			t.Errorf("New(%+v): %v, want ErrInvalid", bad, err)
		}
	}
	m := mustNew(t, Spec{Name: "xsks", Type: XSKMap, KeySize: 4, ValueSize: 4, MaxEntries: 4}, 1)
	key := func(k uint32) []byte { return binary.NativeEndian.AppendUint32(nil, k) }
	if err := m.Update(key(1), key(3), UpdateAny); ErrnoOf(err) != EOPNOTSUPP {
		t.Errorf("update: %v, want EOPNOTSUPP", err)
	}
	if err := m.Update(key(4), key(3), UpdateAny); ErrnoOf(err) != E2BIG {
		t.Errorf("update past max entries: %v, want E2BIG", err)
	}
	if err := m.Lookup(key(1), make([]byte, 4)); ErrnoOf(err) != EOPNOTSUPP {
		t.Errorf("lookup: %v, want EOPNOTSUPP", err)
	}
	if err := m.Delete(key(3)); err != nil {
		t.Errorf("delete: %v", err)
	}
	if err := m.Delete(key(4)); ErrnoOf(err) != EINVAL {
		t.Errorf("delete past max entries: %v, want EINVAL", err)
	}
	next := make([]byte, 4)
	if err := m.NextKey(key(2), next); err != nil || binary.NativeEndian.Uint32(next) != 3 {
		t.Errorf("next key after 2: %v, %d", err, binary.NativeEndian.Uint32(next))
	}
	if err := m.NextKey(key(3), next); !errors.Is(err, ErrKeyNotExist) {
		t.Errorf("next key after the last: %v", err)
	}
	em := m.(ElemMap)
	if em.LookupPtr(key(0), 0) != nil {
		t.Error("a program's lookup found a socket")
	}
	if r := em.UpdateElem(key(0), key(0), 0, 0); r >= 0 {
		t.Errorf("a program's update = %d, want -errno", r)
	}
}
