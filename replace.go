package bpfhost

import (
	"fmt"
	"sort"
)

// replacement returns a new handle of the map that opts.MapReplacements
// gives for ms, or nil if it gives none. As with a pinned map, the map must
// match ms (else the error wraps ErrMapIncompatible). Unlike a pin by name
// (pinnable), a replacement may be a program array or a map of maps (its
// entries are the programs and maps of any collection, which keep their
// own lifetimes, as when user space stores them) or a global data section
// (not initialised from the object: a frozen .rodata must already hold
// the spec's bytes, freezeData); maps with timers cannot be shared
// (ErrNotSupported): a timer runs a callback of the collection that set it.
func replacement(ms *MapSpec, repl map[string]*Map, slots int) (*Map, error) {
	r, ok := repl[ms.Name]
	if !ok {
		return nil, nil
	}
	if r == nil {
		return nil, fmt.Errorf("%w: MapReplacements[%q] is nil", ErrInvalid, ms.Name)
	}
	if ms.HasTimer {
		return nil, fmt.Errorf("replacing: %w: map %q: sharing a map with timers between collections", ErrNotSupported, ms.Name)
	}
	if err := compatible(ms, r, "replaced by map "+fmt.Sprintf("%q", r.name), slots); err != nil {
		return nil, err
	}
	pinNS.mu.Lock()
	defer pinNS.mu.Unlock()
	if r.released.Load() {
		return nil, fmt.Errorf("map %q replaced by map %q: %w", ms.Name, r.name, ErrClosed)
	}
	return r.handleLocked(), nil
}

// checkReplacements refuses replacements for maps spec does not have, as
// cilium/ebpf does.
func checkReplacements(spec *CollectionSpec, repl map[string]*Map) error {
	var missing []string
	for name := range repl {
		if spec.Map(name) == nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("%w: MapReplacements name maps the object does not have: %q", ErrInvalid, missing)
	}
	return nil
}

// notReplaced returns the specs of the maps the collection creates itself.
func notReplaced(specs []*MapSpec, repl map[string]*Map) []*MapSpec {
	if len(repl) == 0 {
		return specs
	}
	var out []*MapSpec
	for _, ms := range specs {
		if _, ok := repl[ms.Name]; !ok {
			out = append(out, ms)
		}
	}
	return out
}
