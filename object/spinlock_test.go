package object

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf/btf"
)

func TestSpinLockOffset(t *testing.T) {
	u32 := &btf.Int{Name: "u32", Size: 4}
	lock := &btf.Struct{Name: "bpf_spin_lock", Size: 4, Members: []btf.Member{{Name: "val", Type: u32}}}
	inner := &btf.Struct{Name: "inner", Size: 8, Members: []btf.Member{{Name: "x", Type: u32}, {Name: "l", Type: &btf.Typedef{Name: "lock_t", Type: lock}, Offset: 32}}}
	for _, c := range []struct {
		name  string
		typ   btf.Type
		off   uint32
		found bool
		err   error
	}{
		{"none", &btf.Struct{Name: "v", Size: 8, Members: []btf.Member{{Name: "a", Type: u32}}}, 0, false, nil},
		{"no BTF", nil, 0, false, nil},
		{"top level", &btf.Struct{Name: "v", Size: 12, Members: []btf.Member{{Name: "a", Type: u32}, {Name: "l", Type: lock, Offset: 64}}}, 8, true, nil},
		{"nested, through a typedef", &btf.Struct{Name: "v", Size: 16, Members: []btf.Member{{Name: "a", Type: u32}, {Name: "in", Type: &btf.Volatile{Type: inner}, Offset: 64}}}, 12, true, nil},
		{"two locks", &btf.Struct{Name: "v", Size: 8, Members: []btf.Member{{Name: "a", Type: lock}, {Name: "b", Type: lock, Offset: 32}}}, 0, false, ErrNotSupported},
	} {
		off, found, err := spinLockOffset(c.typ)
		if off != c.off || found != c.found || !errors.Is(err, c.err) || (err == nil) != (c.err == nil) {
			t.Errorf("%s: %d, %v, %v; want %d, %v, %v", c.name, off, found, err, c.off, c.found, c.err)
		}
	}
}
