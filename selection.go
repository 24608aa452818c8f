package bpfhost

import (
	"fmt"
	"slices"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/object"
)

// selectPrograms returns the programs of spec that NewCollection loads for
// CollectionOptions.Programs, in the spec's order. For nil: every program
// whose autoload is on (not ProgramSpec.NoAutoload), as libbpf loads an
// object. Otherwise the named ones, whatever their autoload (naming a
// program asks for it), and, transitively, every program a program array
// they reference holds in its static contents, unless its autoload is off:
// reaching a program does not turn it on, as in libbpf, and the slot that
// names it then fails the collection (unloadedSlotError).
func selectPrograms(spec *CollectionSpec, names []string) ([]*ProgramSpec, error) {
	if names == nil {
		return slices.DeleteFunc(slices.Clone(spec.Programs), func(ps *ProgramSpec) bool { return ps.NoAutoload }), nil
	}
	want := map[string]bool{}
	var queue []string
	for _, n := range names {
		if spec.Program(n) == nil {
			return nil, fmt.Errorf("%w: no program %q in the object", ErrInvalid, n)
		}
		if !want[n] {
			want[n] = true
			queue = append(queue, n)
		}
	}
	for len(queue) > 0 {
		ps := spec.Program(queue[0])
		queue = queue[1:]
		for _, ref := range ps.References {
			if ref.Kind != object.RefMap || ref.Map < 0 || ref.Map >= len(spec.Maps) {
				continue
			}
			ms := spec.Maps[ref.Map]
			if maps.Type(ms.Type) != maps.ProgramArray {
				continue
			}
			for _, kv := range ms.Contents {
				if next := spec.Program(kv.Value); !want[kv.Value] && next != nil && !next.NoAutoload {
					want[kv.Value] = true
					queue = append(queue, kv.Value)
				}
			}
		}
	}
	return slices.DeleteFunc(slices.Clone(spec.Programs), func(ps *ProgramSpec) bool { return !want[ps.Name] }), nil
}

// unloadedSlotError is the error for a statically initialised slot of
// program array ms that names program ps, which the collection did not
// load because its autoload is off. libbpf refuses the object the same way
// ("failed to initialize slot"): the array would otherwise start with a
// hole its programs do not expect.
func unloadedSlotError(ms *MapSpec, key uint32, ps *ProgramSpec) error {
	return fmt.Errorf("%w: map %q: slot %d names program %q, which is not loaded: SEC(%q) turns its autoload off (name it in CollectionOptions.Programs, or clear its ProgramSpec.NoAutoload)",
		ErrInvalid, ms.Name, key, ps.Name, "?"+ps.Section)
}

// referencesMap reports whether one of progs references the map of index
// i of its spec.
func referencesMap(progs []*ProgramSpec, i int) bool {
	for _, ps := range progs {
		for _, ref := range ps.References {
			if ref.Kind == object.RefMap && ref.Map == i {
				return true
			}
		}
	}
	return false
}
