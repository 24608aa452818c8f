package verifier

import (
	"fmt"
	"testing"

	"github.com/bpfhost/bpfhost/object"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// mapInfos converts an object's maps to the verifier's descriptors.
func mapInfos(spec *object.Spec) []MapInfo {
	conv := func(m *object.MapSpec) MapInfo {
		return MapInfo{Name: m.Name, Type: platform.MapType(m.Type), KeySize: m.KeySize, ValueSize: m.ValueSize,
			MaxEntries: m.MaxEntries, ReadOnlyProg: m.Flags&object.FlagReadOnlyProg != 0,
			HasSpinLock: m.HasSpinLock, SpinLockOffset: m.SpinLockOffset, HasTimer: m.HasTimer, TimerOffset: m.TimerOffset}
	}
	out := make([]MapInfo, len(spec.Maps))
	for i, m := range spec.Maps {
		out[i] = conv(m)
		if m.InnerMap != nil {
			in := conv(m.InnerMap)
			out[i].Inner = &in
		}
	}
	return out
}

// objectOptions returns the options to verify one program of an object.
func objectOptions(spec *object.Spec, p *object.ProgramSpec) (Options, error) {
	info, ok := linux.Lookup(p.Section)
	if !ok {
		return Options{}, fmt.Errorf("section %q: unknown program type", p.Section)
	}
	return Options{
		Name:  p.Name,
		Type:  info,
		ABI:   linux.ABI(),
		Maps:  mapInfos(spec),
		Lines: func(pc int) string { return p.Line(pc).String() },
	}, nil
}

// verifyObject verifies every program of an object file.
func verifyObject(t testing.TB, path string) map[string]error {
	t.Helper()
	spec, err := object.Load(path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	out := map[string]error{}
	for _, p := range spec.Programs {
		opts, err := objectOptions(spec, p)
		if err != nil {
			out[p.Name] = err
			continue
		}
		opts.Limits = untimed(opts.Limits)
		_, err = Verify(p.Instructions, opts)
		out[p.Name] = err
	}
	return out
}
