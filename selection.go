package bpfhost

import (
	"fmt"
	"slices"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/object"
)

// selectPrograms returns the programs of spec that NewCollection loads for
// CollectionOptions.Programs: all of them for nil; otherwise the named ones
// and, transitively, every program a program array they reference holds in
// its static contents, in the spec's order.
func selectPrograms(spec *CollectionSpec, names []string) ([]*ProgramSpec, error) {
	if names == nil {
		return spec.Programs, nil
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
				if !want[kv.Value] && spec.Program(kv.Value) != nil {
					want[kv.Value] = true
					queue = append(queue, kv.Value)
				}
			}
		}
	}
	return slices.DeleteFunc(slices.Clone(spec.Programs), func(ps *ProgramSpec) bool { return !want[ps.Name] }), nil
}
