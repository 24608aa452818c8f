package daemon

import (
	"maps"
	"slices"

	"github.com/bpfhost/bpfhost"
)

// arrayOwner is a program whose type and engine a program array's
// owner_prog_type and owner_jited show: as Linux's owner (the first
// program that used the array or was stored in it; the runtime keeps all
// of one type), a live program that uses it, of its unit or of a unit that
// reuses it, or else one it holds. nil for other maps and for an array no
// live program uses or is held by (Linux keeps an owner once claimed; the
// daemon shows one while a program claims it). d.mu is held.
func (d *Daemon) arrayOwner(m *mapObj) *prog {
	if m.m.Type() != bpfhost.MapProgArray {
		return nil
	}
	uses := func(progs []*prog) *prog {
		for _, p := range progs {
			if p.live && slices.Contains(p.mapIDs, m.id) {
				return p
			}
		}
		return nil
	}
	if p := uses(m.u.progs); p != nil {
		return p
	}
	for _, id := range slices.Sorted(maps.Keys(d.units)) {
		if u := d.units[id]; u != m.u && slices.Contains(mapValues(u.borrowed), m) {
			if p := uses(u.progs); p != nil {
				return p
			}
		}
	}
	if m.refs != nil {
		for _, k := range slices.Sorted(maps.Keys(m.refs.entries)) {
			if p, ok := m.refs.entries[k].obj.(*prog); ok && p.live {
				return p
			}
		}
	}
	return nil
}

func mapValues(m map[string]*mapObj) []*mapObj {
	out := make([]*mapObj, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
