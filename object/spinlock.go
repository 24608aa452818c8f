package object

import (
	"fmt"

	"github.com/cilium/ebpf/btf"
)

// maxLockSearchDepth bounds how deeply nested structs and unions are
// searched for a struct bpf_spin_lock, so that hostile BTF cannot make the
// search deep.
const maxLockSearchDepth = 8

// spinLockOffset finds the struct bpf_spin_lock in a map's value type (its
// BTF, nil if the object has none): the byte offset of the one lock, or
// found false. Linux allows at most one lock per value; it is what the
// verifier keeps plain loads and stores away from and what BPF_F_LOCK
// copies skip.
func spinLockOffset(value btf.Type) (off uint32, found bool, err error) {
	var n int
	var walk func(t btf.Type, base uint32, depth int) error
	walk = func(t btf.Type, base uint32, depth int) error {
		if depth > maxLockSearchDepth {
			return nil
		}
		var members []btf.Member
		switch v := btf.UnderlyingType(t).(type) {
		case *btf.Struct:
			if v.Name == "bpf_spin_lock" {
				n++
				off = base
				return nil
			}
			members = v.Members
		case *btf.Union:
			members = v.Members
		default:
			return nil
		}
		for _, m := range members {
			if m.Offset%8 != 0 {
				continue
			}
			if err := walk(m.Type, base+uint32(m.Offset/8), depth+1); err != nil {
				return err
			}
			if n > 1 {
				return fmt.Errorf("%w: more than one struct bpf_spin_lock in a map value", ErrNotSupported)
			}
		}
		return nil
	}
	if value == nil {
		return 0, false, nil
	}
	if err := walk(value, 0, 0); err != nil {
		return 0, false, err
	}
	return off, n == 1, nil
}
