package maps

import (
	"bytes"
	"strings"
	"testing"
)

// TestTimerField checks a value's struct bpf_timer (Spec.HasTimer): copies
// from user space leave it alone and copies out read it as zero, beside a
// spin lock too, and New refuses a timer where Linux does.
func TestTimerField(t *testing.T) {
	for _, s := range []Spec{
		{Name: "a", Type: Array, KeySize: 4, ValueSize: 40, MaxEntries: 2, HasTimer: true, TimerOffset: 16},
		{Name: "h", Type: Hash, KeySize: 4, ValueSize: 40, MaxEntries: 2, HasTimer: true, TimerOffset: 16, HasSpinLock: true, SpinLockOffset: 4},
		{Name: "l", Type: LRUHash, KeySize: 4, ValueSize: 40, MaxEntries: 2, HasTimer: true, TimerOffset: 0},
	} {
		m := mustNew(t, s, 1)
		key := []byte{1, 0, 0, 0}
		in := bytes.Repeat([]byte{0xff}, 40)
		if err := m.Update(key, in, UpdateAny); err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		out := make([]byte, 40)
		if err := m.Lookup(key, out); err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		want := bytes.Repeat([]byte{0xff}, 40)
		clear(want[s.TimerOffset : s.TimerOffset+16])
		if s.HasSpinLock {
			clear(want[s.SpinLockOffset : s.SpinLockOffset+4])
		}
		if !bytes.Equal(out, want) {
			t.Errorf("%s: lookup %x, want %x", s.Name, out, want)
		}
	}
	for _, tc := range []struct {
		s    Spec
		want string
	}{
		{Spec{Name: "p", Type: PerCPUArray, KeySize: 4, ValueSize: 16, MaxEntries: 1, HasTimer: true}, "cannot hold a bpf_timer"},
		{Spec{Name: "o", Type: Array, KeySize: 4, ValueSize: 16, MaxEntries: 1, HasTimer: true, TimerOffset: 4}, "bpf_timer at offset 4 of a 16-byte value"},
		{Spec{Name: "b", Type: Array, KeySize: 4, ValueSize: 16, MaxEntries: 1, HasTimer: true, TimerOffset: 8}, "bpf_timer at offset 8 of a 16-byte value"},
		{Spec{Name: "x", Type: Hash, KeySize: 4, ValueSize: 24, MaxEntries: 1, HasTimer: true, TimerOffset: 8, HasSpinLock: true, SpinLockOffset: 12}, "overlaps the bpf_spin_lock"},
	} {
		if _, err := New(tc.s, 1); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", tc.s.Name, err, tc.want)
		}
	}
}
