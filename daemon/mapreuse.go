package daemon

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/daemon/api"
)

// Reusing existing maps in a load ("bpftool prog load OBJ PATH map name
// counts pinned /bpf/counts"): the new unit's programs use a map of another
// unit (one created with "map create", or another object's) instead of
// creating their own. As libbpf's bpf_map__reuse_fd, the reused map's type,
// sizes and flags replace the object's definition, and the programs are
// verified against them (the kernel's verifier judges the programs against
// the map it is given, so a program that only fits the object's own
// definition is rejected). The reused map is not the new unit's: it stays
// its own unit's (its memory file, log and pins stay there), held by the
// new unit's programs as any live program holds its unit's maps (collect).
// The collection takes it as a CollectionOptions.MapReplacements entry.
//
// What libbpf does with the object's own initialisation of a reused map
// (checked with bpftool against Linux): a program array still gets the
// object's static slots (libbpf fills the program arrays after loading,
// reused or not), which then name the new unit's programs and are logged
// in the reused map's table (recordReusedSlots); a map of maps does not
// (its slots are filled only when libbpf creates it), nor does global data
// (a reused .data or .bss keeps its bytes; a reused frozen .rodata gives
// the verifier its own bytes as constants, as Linux reads a frozen
// read-only map).

// reuseMeta records a reused map in the unit that reuses it, for restores:
// the object's map name and the unit and name of the map it uses.
type reuseMeta struct {
	Name string `json:"name"`
	Unit uint64 `json:"unit"`
	Map  string `json:"map"`
}

// libbpfMapOrder lists the object's maps in libbpf's order, which "map idx
// IDX" counts in: the maps of the .maps section by their place in it, then
// the global data sections in the ELF's section order, then .kconfig.
// Names the spec does not have are left out.
func libbpfMapOrder(object []byte, spec *bpfhost.CollectionSpec) []string {
	have := map[string]bool{}
	for _, ms := range spec.Maps {
		have[ms.Name] = true
	}
	var out []string
	add := func(name string) {
		if have[name] {
			out = append(out, name)
			delete(have, name)
		}
	}
	f, err := elf.NewFile(bytes.NewReader(object))
	if err == nil {
		defer f.Close()
		type sym struct {
			off  uint64
			name string
		}
		var btfMaps []sym
		if syms, err := f.Symbols(); err == nil {
			for _, s := range syms {
				if int(s.Section) < len(f.Sections) && s.Section > elf.SHN_UNDEF && s.Section < elf.SHN_LORESERVE &&
					f.Sections[s.Section].Name == ".maps" && elf.ST_TYPE(s.Info) == elf.STT_OBJECT {
					btfMaps = append(btfMaps, sym{s.Value, s.Name})
				}
			}
		}
		sort.Slice(btfMaps, func(i, j int) bool { return btfMaps[i].off < btfMaps[j].off })
		for _, s := range btfMaps {
			add(s.name)
		}
		for _, sec := range f.Sections {
			for _, p := range []string{".data", ".rodata", ".bss"} {
				if sec.Name == p || strings.HasPrefix(sec.Name, p+".") {
					add(sec.Name)
				}
			}
		}
	}
	add(".kconfig")
	// What the ELF did not place (legacy definitions), by name.
	for _, ms := range spec.Maps {
		add(ms.Name)
	}
	return out
}

// libbpfName is the name libbpf's bpf_map__name gives the object's map
// name, which bpftool's "map name NAME" matches: a global data section's
// map is named after the object ("counter.rodata"; its section name alone
// does not match), any other map by its whole name (not cut as the
// kernel cuts it). Without the object's name (a client of the API that
// gave none), a section is its own name.
func libbpfName(object, name string) string {
	if strings.HasPrefix(name, ".") && object != "" {
		return libbpfMapName(object, name)
	}
	return name
}

// resolveReuse resolves a load's map replacements to the object's map
// names and the existing maps, with bpftool's errors. d.mu is held.
func (d *Daemon) resolveReuse(object []byte, spec *bpfhost.CollectionSpec, objName string, reqs []api.MapReplacement) (map[string]*mapObj, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	order := libbpfMapOrder(object, spec)
	out := map[string]*mapObj{}
	for _, r := range reqs {
		var name string
		switch {
		case r.Idx != nil && r.Name == "":
			if *r.Idx < 0 || *r.Idx >= len(order) {
				return nil, errorf(api.CodeNotFound, "map idx '%d' not used", *r.Idx)
			}
			name = order[*r.Idx]
		case r.Idx == nil && r.Name != "":
			for _, n := range order {
				if libbpfName(objName, n) == r.Name {
					name = n
				}
			}
			if name == "" {
				return nil, errorf(api.CodeNotFound, "unable to find map '%s'", r.Name)
			}
		default:
			return nil, errorf(api.CodeInvalid, "a map replacement names the object's map by exactly one of idx or name")
		}
		idx := 0
		for i, n := range order {
			if n == name {
				idx = i
			}
		}
		if out[name] != nil {
			return nil, errorf(api.CodeInvalid, "replacement for map idx %d specified more than once", idx)
		}
		m, err := d.findMap(r.Map)
		if err != nil {
			return nil, err
		}
		var ms *bpfhost.MapSpec
		for _, s := range spec.Maps {
			if s.Name == name {
				ms = s
			}
		}
		for _, s := range []*bpfhost.MapSpec{ms, m.spec} {
			if err := reusable(s); err != nil {
				return nil, err
			}
		}
		out[name] = m
	}
	return out, nil
}

// reusable refuses what the root package cannot share between
// collections: maps with timers, whose callbacks are programs of the
// collection that set them.
func reusable(ms *bpfhost.MapSpec) error {
	if ms.HasTimer {
		return errorf(api.CodeNotSupp, "map %q: reusing a map with timers in another object is not supported by bpfhost yet", ms.Name)
	}
	return nil
}

// flagRdOnlyProg is BPF_F_RDONLY_PROG: programs may only read the map.
const flagRdOnlyProg = 1 << 7

// reuseSpecs are the definitions the object's reused maps take: the
// existing maps', under the object's names (VerifyRequest.Maps), with the
// object's static slots of a program array (libbpf fills a reused one) and,
// for a frozen read-only array of one value, its bytes, which the verifier
// reads as constants if the object's map is a .rodata section (as Linux
// reads a frozen map with BPF_F_RDONLY_PROG). d.mu is held, so that no
// reused map goes meanwhile.
func reuseSpecs(spec *bpfhost.CollectionSpec, borrowed map[string]*mapObj) (map[string]*bpfhost.MapSpec, error) {
	if len(borrowed) == 0 {
		return nil, nil
	}
	out := map[string]*bpfhost.MapSpec{}
	for name, m := range borrowed {
		ms := m.spec.Copy()
		ms.Name, ms.Contents, ms.Data, ms.Pinning = name, nil, nil, bpfhost.PinNone
		if own := spec.Map(name); own != nil && bpfhost.MapType(ms.Type) == bpfhost.MapProgArray {
			ms.Contents = append(ms.Contents, own.Contents...)
		}
		if bpfhost.MapType(ms.Type) == bpfhost.MapArray && ms.MaxEntries == 1 && ms.Flags&flagRdOnlyProg != 0 && m.m.Frozen() {
			b, err := m.m.LookupBytes(uint32(0))
			if err != nil {
				return nil, fmt.Errorf("map %q: %w", m.name, err)
			}
			ms.Data = b
		}
		out[name] = ms
	}
	return out, nil
}

// applyReuse returns spec with the definitions of over in place of the
// object's maps of the same names. spec is not changed.
func applyReuse(spec *bpfhost.CollectionSpec, over map[string]*bpfhost.MapSpec) (*bpfhost.CollectionSpec, error) {
	if len(over) == 0 {
		return spec, nil
	}
	out := spec.Copy()
	found := 0
	for i, ms := range out.Maps {
		if o := over[ms.Name]; o != nil {
			out.Maps[i] = o.Copy()
			found++
		}
	}
	if found != len(over) {
		return nil, errorf(api.CodeInvalid, "a replaced map is not in the object")
	}
	return out, nil
}

// replacements are the collection's MapReplacements for the reused maps.
func replacements(borrowed map[string]*mapObj) map[string]*bpfhost.Map {
	if len(borrowed) == 0 {
		return nil
	}
	out := map[string]*bpfhost.Map{}
	for name, m := range borrowed {
		out[name] = m.m
	}
	return out
}

// refillBorrowed makes the program arrays a failed load reused hold their
// tables again: the collection stored the object's static slots in them
// before it failed, over entries the tables still name. d.mu is held.
func (d *Daemon) refillBorrowed(borrowed map[string]*mapObj) {
	for _, m := range borrowed {
		if m.refs != nil && m.live {
			d.refill(m)
		}
	}
}

// recordReusedSlots logs in the tables of the program arrays u reuses the
// slots its object initialises statically, which NewCollection stored in
// them (reuseSpecs kept them): the tables stay what the maps hold. d.mu is
// held.
func (d *Daemon) recordReusedSlots(u *unit, spec *bpfhost.CollectionSpec) error {
	for name, m := range u.borrowed {
		ms := spec.Map(name)
		if ms == nil || m.refs == nil || m.m.Type() != bpfhost.MapProgArray {
			continue
		}
		for _, kv := range ms.Contents {
			if u.coll.Programs[kv.Value] == nil {
				continue // not loaded: the slot was left alone
			}
			key := binary.NativeEndian.AppendUint32(nil, kv.Key)
			p := d.progNamed(u, kv.Value)
			e := &refEntry{Target: refOf(p), obj: p}
			// Stored again under d.mu: an update through the API
			// between the collection's store and now is ordered
			// before this one, in the map as in the table.
			if err := m.apply(key, e, 0); err != nil {
				return err
			}
			d.setEntry(m, string(key), e)
			if m.refs.wal != nil {
				if err := m.refs.wal.append(walRecord{op: walUpdate, key: key, value: encodeEntry(e)}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// reuseMetas records borrowed for unit.json.
func reuseMetas(borrowed map[string]*mapObj) []reuseMeta {
	var out []reuseMeta
	for name, m := range borrowed {
		out = append(out, reuseMeta{Name: name, Unit: m.u.id, Map: m.m.Name()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// restoredReuse finds the maps a restored unit reuses in the units
// restored before it. d.mu is held.
func (d *Daemon) restoredReuse(metas []reuseMeta) (map[string]*mapObj, error) {
	if len(metas) == 0 {
		return nil, nil
	}
	out := map[string]*mapObj{}
	for _, r := range metas {
		var found *mapObj
		if u := d.units[r.Unit]; u != nil {
			for _, m := range u.maps {
				if m.m.Name() == r.Map && m.live {
					found = m
				}
			}
		}
		if found == nil {
			return nil, fmt.Errorf("map %q reuses map %q of unit %d, which was not restored", r.Name, r.Map, r.Unit)
		}
		out[r.Name] = found
	}
	return out, nil
}

// checkBorrowed checks, once the collection is created, that the reused
// maps still live (another call may have unpinned one meanwhile). d.mu is
// held.
func checkBorrowed(borrowed map[string]*mapObj) error {
	for _, m := range borrowed {
		if !m.live || m.u.closing {
			return errorf(api.CodeNotFound, "map %q went away while the object loaded", m.name)
		}
	}
	return nil
}

// heldByReuse adds to held, per unit, the maps that the units in ids
// reuse (their unit.json says), so that a unit held only that way is
// restored.
func (d *Daemon) heldByReuse(ids []uint64, held map[uint64]map[string]bool) {
	for _, id := range ids {
		b, err := os.ReadFile(filepath.Join(d.unitsDir(), strconv.FormatUint(id, 10), "unit.json"))
		if err != nil {
			continue
		}
		var meta struct {
			Reuse []reuseMeta `json:"reuse"`
		}
		if json.Unmarshal(b, &meta) != nil {
			continue
		}
		for _, r := range meta.Reuse {
			if held[r.Unit] == nil {
				held[r.Unit] = map[string]bool{}
			}
			held[r.Unit][kindMap+"/"+r.Map] = true
		}
	}
}

// PinRoot is where a load pins the maps its object marks to be pinned by
// name (__uint(pinning, LIBBPF_PIN_BY_NAME)), in the daemon's namespace:
// libbpf's default pin root.
const PinRoot = "/sys/fs/bpf"

// pinByName applies libbpf's pinning by name to a load: a map of spec
// marked so is reused if a map is pinned at PinRoot/NAME already (added to
// borrowed, after libbpf's compatibility check, with its error), or else
// pinned there once created (the pins returned). A map the request
// replaces explicitly is left alone, and so are all without such marks.
// d.mu is held.
func (d *Daemon) pinByName(spec *bpfhost.CollectionSpec, objName, pinMaps string, borrowed map[string]*mapObj) (map[string]*mapObj, []pinMeta, error) {
	var pins []pinMeta
	for _, ms := range spec.Maps {
		if ms.Pinning != bpfhost.PinByName || borrowed[ms.Name] != nil {
			continue
		}
		at := path.Join(PinRoot, mapPinName(objName, ms.Name))
		if pinMaps != "" {
			// libbpf pins the map at its own pin path only.
			return nil, nil, errorf(api.CodeInvalid, "map '%s' already has pin path '%s' different from '%s': failed to pin all maps",
				ms.Name, at, path.Join(pinMaps, mapPinName(objName, ms.Name)))
		}
		o, ok := d.pins[at]
		if !ok {
			pins = append(pins, pinMeta{Kind: kindMap, Name: ms.Name, Path: at})
			continue
		}
		m, isMap := o.(*mapObj)
		if !isMap || !reuseCompatible(ms, m.spec) {
			return nil, nil, errorf(api.CodeInvalid, "couldn't reuse pinned map at '%s': parameter mismatch", at)
		}
		for _, s := range []*bpfhost.MapSpec{ms, m.spec} {
			if err := reusable(s); err != nil {
				return nil, nil, err
			}
		}
		if borrowed == nil {
			borrowed = map[string]*mapObj{}
		}
		borrowed[ms.Name] = m
	}
	return borrowed, pins, nil
}

// reuseCompatible is libbpf's check of a map pinned by name before it
// reuses it (map_is_reuse_compat): type, key and value size, max entries,
// flags and map_extra.
// The pinned map's flags are as Linux keeps them, without the access flags
// of the descriptor that created it.
func reuseCompatible(want, got *bpfhost.MapSpec) bool {
	return want.Type == got.Type && want.KeySize == got.KeySize && want.ValueSize == got.ValueSize &&
		want.MaxEntries == got.MaxEntries && want.Flags == got.Flags&^(flagRdOnly|flagWrOnly) && want.MapExtra == got.MapExtra
}

// unpinBorrowed removes the pins that a failed load gave the maps it
// reused (pinmaps). d.mu is held.
func (d *Daemon) unpinBorrowed(u *unit, pins []pinMeta) {
	for _, p := range pins {
		if m := u.borrowed[p.Name]; m != nil && p.Kind == kindMap && d.pins[p.Path] == m {
			delete(d.pins, p.Path)
			m.pins = remove(m.pins, p.Path)
		}
	}
}
