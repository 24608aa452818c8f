package maps

import (
	"bytes"
	"errors"
	"testing"
)

// TestArrayRange checks ReadAt and WriteAt: a write changes only its bytes
// (unaligned, across words), reads see them, and bad ranges, per-CPU
// arrays and frozen maps are refused.
func TestArrayRange(t *testing.T) {
	m, err := New(Spec{Name: "a", Type: Array, KeySize: 4, ValueSize: 20, MaxEntries: 2}, 1)
	if err != nil {
		t.Fatal(err)
	}
	a := m.(*ArrayMap)
	all := bytes.Repeat([]byte{0xee}, 20)
	if err := a.Update([]byte{1, 0, 0, 0}, all, UpdateAny); err != nil {
		t.Fatal(err)
	}
	if err := a.WriteAt(1, 5, []byte{1, 2, 3, 4, 5, 6}); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 20)
	if err := a.Lookup([]byte{1, 0, 0, 0}, got); err != nil {
		t.Fatal(err)
	}
	want := append(append(bytes.Repeat([]byte{0xee}, 5), 1, 2, 3, 4, 5, 6), bytes.Repeat([]byte{0xee}, 9)...)
	if !bytes.Equal(got, want) {
		t.Errorf("after WriteAt: %x, want %x", got, want)
	}
	part := make([]byte, 3)
	if err := a.ReadAt(1, 9, part); err != nil || !bytes.Equal(part, []byte{5, 6, 0xee}) {
		t.Errorf("ReadAt: %x, %v", part, err)
	}
	for _, tc := range []struct {
		index    uint32
		off, n   int
		want     error
		wantText string
	}{
		{2, 0, 4, ErrKeyNotExist, "index"},
		{0, 17, 4, ErrInvalid, "past the end"},
		{0, -1, 4, ErrInvalid, "negative offset"},
		{0, 21, 0, ErrInvalid, "offset past the end"},
	} {
		if err := a.ReadAt(tc.index, tc.off, make([]byte, tc.n)); !errors.Is(err, tc.want) {
			t.Errorf("ReadAt %s: %v, want %v", tc.wantText, err, tc.want)
		}
		if err := a.WriteAt(tc.index, tc.off, make([]byte, tc.n)); !errors.Is(err, tc.want) {
			t.Errorf("WriteAt %s: %v, want %v", tc.wantText, err, tc.want)
		}
	}
	if err := a.Freeze(); err != nil {
		t.Fatal(err)
	}
	if err := a.WriteAt(0, 0, []byte{1}); !errors.Is(err, ErrPermission) {
		t.Errorf("WriteAt of a frozen map: %v", err)
	}
	pc, err := New(Spec{Name: "p", Type: PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.(*ArrayMap).ReadAt(0, 0, make([]byte, 8)); !errors.Is(err, ErrNotSupported) {
		t.Errorf("ReadAt of a per-CPU array: %v", err)
	}
}
