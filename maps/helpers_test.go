package maps

import (
	"encoding/binary"
	"errors"
	"testing"
)

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.NativeEndian.AppendUint64(nil, v) }

func mustNew(t testing.TB, s Spec, slots int) Map {
	t.Helper()
	m, err := New(s, slots)
	if err != nil {
		t.Fatalf("New(%+v): %v", s, err)
	}
	return m
}

// wantErrno checks err against an expected errno (0: no error), both as
// Errno and through errors.Is with the sentinel.
func wantErrno(t testing.TB, what string, err error, want Errno) {
	t.Helper()
	if want == 0 {
		if err != nil {
			t.Errorf("%s: %v, want success", what, err)
		}
		return
	}
	if err == nil {
		t.Errorf("%s: success, want %v", what, want)
		return
	}
	if got := ErrnoOf(err); got != want {
		t.Errorf("%s: %v (errno %v), want %v", what, err, got, want)
	}
	if !errors.Is(err, want) {
		t.Errorf("%s: errors.Is(%v, %v) false", what, err, want)
	}
	if s, ok := sentinels[want]; ok && !errors.Is(err, s) {
		t.Errorf("%s: errors.Is(%v, %v) false", what, err, s)
	}
}

// wantRet checks a program-side result.
func wantRet(t testing.TB, what string, got int64, want Errno) {
	t.Helper()
	if got != want.Ret() {
		t.Errorf("%s = %d, want %d (%v)", what, got, want.Ret(), want)
	}
}

// dumpMap is the map's contents, by key, with values as Lookup copies them.
func dumpMap(t *testing.T, m Map, slots int) map[string]string {
	t.Helper()
	s := m.Spec()
	vs := int(s.ValueSize)
	if s.Type.PerCPU() {
		vs = int(round8(uint64(vs))) * slots
	}
	k, v := make([]byte, s.KeySize), make([]byte, vs)
	out := map[string]string{}
	it := Iterate(m)
	for it.Next(k, v) {
		out[string(k)] = string(v)
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// testKey is key i of a map of spec: for tries, a prefix of 8 to 32 bits.
func testKey(s Spec, i int) []byte {
	k := make([]byte, s.KeySize)
	if s.Type == LPMTrie {
		binary.NativeEndian.PutUint32(k, uint32(8+i%4*8))
		binary.BigEndian.PutUint32(k[4:], uint32(i)<<24|uint32(i)<<8)
		return k
	}
	binary.LittleEndian.PutUint32(k, uint32(i)*2654435761)
	return k
}
