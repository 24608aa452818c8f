package daemon

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/daemon/api"
)

// Reference maps hold other objects: program arrays hold programs, maps of
// maps hold maps, devmaps and cpumaps hold an entry program in their 8-byte
// values (struct bpf_devmap_val, bpf_cpumap_val). Linux takes file
// descriptors there; the daemon takes its own IDs (or an api.Ref) and
// reports them on lookup, as Linux reports IDs.
//
// Their contents are not bytes that survive a restart (the runtime's
// process-wide IDs and pointers change), so the daemon keeps each such map's
// entries in a table of what they name by unit and name, the only names that
// a restart keeps; the table is logged (units/<n>/refs/<map>, the write-ahead
// log format of wal.go, one record per key) and fsynced before an update is
// acknowledged. Programs cannot write these maps (as in Linux), so the table
// is exact. After a restart every unit is loaded first, then the tables are
// replayed and the maps refilled, so a reference to an object of a unit
// restored later (or to one of the same unit) is found; links are attached
// again only after that.
//
// An object named by a live reference map lives, pinned or not: liveness
// is what the pins and links reach (collect). A unit holding objects of
// another unit also holds that unit's collection open until it is itself
// unloaded and no call uses it (unit.deps, settle), so a tail call never
// enters a closed program.

// objRef names a program or map across restarts: its unit and its name.
type objRef struct {
	Unit uint64 `json:"unit"`
	Kind string `json:"kind"` // kindProg or kindMap
	Name string `json:"name"`
}

// refEntry is one entry of a reference map.
type refEntry struct {
	// Value is the value of a devmap or cpumap entry, with the program
	// field zeroed; nil for program arrays and maps of maps.
	Value []byte `json:"value,omitempty"`
	// Target is the program or map the entry holds, if any.
	Target *objRef `json:"target,omitempty"`

	obj any // *prog or *mapObj of Target
}

// refTable is the contents of a reference map, by key.
type refTable struct {
	entries map[string]*refEntry
	wal     *wal // nil without a state directory
}

// refMap reports whether maps of type t hold objects.
func refMap(t bpfhost.MapType) bool {
	switch t {
	case bpfhost.MapProgArray, bpfhost.MapArrayOfMaps, bpfhost.MapHashOfMaps,
		bpfhost.MapDevMap, bpfhost.MapDevMapHash, bpfhost.MapCPUMap:
		return true
	}
	return false
}

// handleMap reports whether a map of type t holds objects as its values
// (program arrays, maps of maps) rather than in bytes (devmaps, cpumaps).
func handleMap(t bpfhost.MapType) bool {
	return t == bpfhost.MapProgArray || t == bpfhost.MapArrayOfMaps || t == bpfhost.MapHashOfMaps
}

// progField is where a devmap's or cpumap's 8-byte value holds its
// program: bytes 4 to 8 (after the ifindex or queue size).
const progField = 4

// refOf names a registered object.
func refOf(obj any) *objRef {
	switch o := obj.(type) {
	case *prog:
		return &objRef{Unit: o.u.id, Kind: kindProg, Name: o.p.Name()}
	case *mapObj:
		return &objRef{Unit: o.u.id, Kind: kindMap, Name: o.m.Name()}
	}
	return nil
}

// idOf is the daemon's ID of a registered object.
func idOf(obj any) uint32 {
	switch o := obj.(type) {
	case *prog:
		return o.id
	case *mapObj:
		return o.id
	}
	return 0
}

// resolve finds the object r names among the registered ones, or nil.
// d.mu is held.
func (d *Daemon) resolve(r *objRef) any {
	u := d.units[r.Unit]
	if u == nil {
		return nil
	}
	if r.Kind == kindProg {
		for _, p := range u.progs {
			if p.live && p.p.Name() == r.Name {
				return p
			}
		}
		return nil
	}
	for _, m := range u.maps {
		if m.live && m.m.Name() == r.Name {
			return m
		}
	}
	return nil
}

// apply stores e in the map at key. d.mu is held.
func (m *mapObj) apply(key []byte, e *refEntry, flags uint64) error {
	switch o := e.obj.(type) {
	case *prog:
		if handleMap(m.m.Type()) {
			return m.m.Update(key, o.p, bpfhost.MapUpdateFlags(flags))
		}
		v := append([]byte(nil), e.Value...)
		binary.NativeEndian.PutUint32(v[progField:], o.p.ID())
		return m.m.Update(key, v, bpfhost.MapUpdateFlags(flags))
	case *mapObj:
		return m.m.Update(key, o.m, bpfhost.MapUpdateFlags(flags))
	}
	return m.m.Update(key, e.Value, bpfhost.MapUpdateFlags(flags))
}

// entryFor builds the entry an update request asks for: the object of
// req.ValueRef (or, in bytes, its ID) for program arrays and maps of maps;
// the value, with the entry program of its ID, for devmaps and cpumaps.
// d.mu is held.
func (d *Daemon) entryFor(m *mapObj, req api.MapRequest) (*refEntry, error) {
	t := m.m.Type()
	if handleMap(t) {
		r := req.ValueRef
		if r == nil {
			if len(req.Value) != 4 {
				return nil, errorf(api.CodeInvalid, "map %q: a %s value is a %s: give value_ref, or its ID in 4 bytes", m.m.Name(), t, targetKind(t))
			}
			r = &api.Ref{ID: binary.NativeEndian.Uint32(req.Value)}
		}
		if t == bpfhost.MapProgArray {
			p, err := d.findProg(*r)
			if err != nil {
				return nil, err
			}
			return &refEntry{Target: refOf(p), obj: p}, nil
		}
		mo, err := d.findMap(*r)
		if err != nil {
			return nil, err
		}
		return &refEntry{Target: refOf(mo), obj: mo}, nil
	}
	if req.ValueRef != nil {
		return nil, errorf(api.CodeInvalid, "map %q: a %s value is bytes (the program's ID at offset 4)", m.m.Name(), t)
	}
	if len(req.Value) != int(m.m.ValueSize()) {
		return nil, errorf(api.CodeInvalid, "map %q: value of %d bytes, want %d", m.m.Name(), len(req.Value), m.m.ValueSize())
	}
	e := &refEntry{Value: append([]byte(nil), req.Value...)}
	if len(e.Value) < progField+4 {
		return e, nil
	}
	id := binary.NativeEndian.Uint32(e.Value[progField:])
	if id == 0 {
		return e, nil
	}
	p, err := d.findProg(api.Ref{ID: id})
	if err != nil {
		return nil, err
	}
	if err := checkEntryProgram(t, p); err != nil {
		return nil, &Error{Code: api.CodeInvalid, Err: err}
	}
	binary.NativeEndian.PutUint32(e.Value[progField:], 0)
	e.Target, e.obj = refOf(p), p
	return e, nil
}

// checkEntryProgram checks that p can be the entry program of a devmap's
// or cpumap's (t) entry.
func checkEntryProgram(t bpfhost.MapType, p *prog) error {
	_, err := bpfhost.XDPEntryProgram(p.p.ID(), t != bpfhost.MapCPUMap)
	return err
}

func targetKind(t bpfhost.MapType) string {
	if t == bpfhost.MapProgArray {
		return "program"
	}
	return "map"
}

// encodeEntry is a table entry as its log record's value.
func encodeEntry(e *refEntry) []byte {
	b, _ := json.Marshal(e)
	return b
}

// updateRef sets an entry of a reference map; when it returns nil the
// entry is logged.
func (d *Daemon) updateRef(m *mapObj, req api.MapRequest) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !m.live {
		return errorf(api.CodeNotFound, "map %q is gone", m.m.Name())
	}
	e, err := d.entryFor(m, req)
	if err != nil {
		return err
	}
	if err := m.apply(req.Key, e, req.Flags); err != nil {
		return err
	}
	// The table follows the map even if logging fails (the client is
	// then told that the update is not durable).
	d.setEntry(m, string(req.Key), e)
	if m.refs.wal != nil {
		if err := m.refs.wal.append(walRecord{op: walUpdate, key: req.Key, value: encodeEntry(e)}); err != nil {
			return errorf(api.CodeInternal, "%w", err)
		}
	}
	return d.afterRefChange(m)
}

// deleteRef deletes an entry of a reference map; when it returns nil the
// deletion is logged.
func (d *Daemon) deleteRef(m *mapObj, key []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !m.live {
		return errorf(api.CodeNotFound, "map %q is gone", m.m.Name())
	}
	if err := m.m.Delete(key); err != nil {
		return err
	}
	d.setEntry(m, string(key), nil)
	if m.refs.wal != nil {
		if err := m.refs.wal.append(walRecord{op: walDelete, key: key}); err != nil {
			return errorf(api.CodeInternal, "%w", err)
		}
	}
	return d.afterRefChange(m)
}

// afterRefChange compacts m's log if it has grown, and unloads what the
// change left unreferenced. d.mu is held.
func (d *Daemon) afterRefChange(m *mapObj) error {
	if w := m.refs.wal; w != nil && w.needsCompaction(0) {
		if err := w.replace(m.refs.snapshot()); err != nil {
			d.log.Error("compacting a map log", "map", m.m.Name(), "err", err)
		}
	}
	return d.collect(nil)
}

// setEntry replaces the table's entry at key (nil deletes it), keeping
// the units' holds on each other. d.mu is held.
func (d *Daemon) setEntry(m *mapObj, key string, e *refEntry) {
	if old := m.refs.entries[key]; old != nil {
		d.dropDep(m.u, old.obj)
		delete(m.refs.entries, key)
	}
	if e != nil {
		m.refs.entries[key] = e
		if t := unitOf(e.obj); t != nil && t != m.u {
			if m.u.deps == nil {
				m.u.deps = map[*unit]int{}
			}
			if m.u.deps[t] == 0 {
				t.heldBy++
			}
			m.u.deps[t]++
		}
	}
}

// dropDep ends one hold of holder on the unit of obj. d.mu is held.
func (d *Daemon) dropDep(holder *unit, obj any) {
	t := unitOf(obj)
	if t == nil || t == holder || holder.deps[t] == 0 {
		return
	}
	holder.deps[t]--
	if holder.deps[t] == 0 {
		delete(holder.deps, t)
		t.heldBy--
		if err := d.settle(t); err != nil {
			d.log.Error("closing an object", "err", err)
		}
	}
}

func unitOf(obj any) *unit {
	switch o := obj.(type) {
	case *prog:
		return o.u
	case *mapObj:
		return o.u
	}
	return nil
}

// snapshot is the table as log records: a clear, then every entry.
func (t *refTable) snapshot() []walRecord {
	recs := []walRecord{{op: walClear}}
	for _, k := range slices.Sorted(maps.Keys(t.entries)) {
		recs = append(recs, walRecord{op: walUpdate, key: []byte(k), value: encodeEntry(t.entries[k])})
	}
	return recs
}

// valueOf is what a lookup of e returns: the daemon's ID of the object of
// a program array or map of maps, the value with its program's ID for
// devmaps and cpumaps.
func valueOf(e *refEntry) []byte {
	id := idOf(e.obj)
	if e.Value == nil {
		return binary.NativeEndian.AppendUint32(nil, id)
	}
	v := append([]byte(nil), e.Value...)
	if e.obj != nil {
		binary.NativeEndian.PutUint32(v[progField:], id)
	}
	return v
}

// lookupRef looks a key of a reference map up.
func (d *Daemon) lookupRef(m *mapObj, key []byte) ([]byte, error) {
	if len(key) != int(m.m.KeySize()) {
		return nil, errorf(api.CodeInvalid, "map %q: key of %d bytes, want %d", m.m.Name(), len(key), m.m.KeySize())
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	e := m.refs.entries[string(key)]
	if e == nil {
		return nil, bpfhost.ErrKeyNotExist
	}
	return valueOf(e), nil
}

// dumpRef lists the entries of a reference map in key order (indexes in
// numeric order).
func (d *Daemon) dumpRef(m *mapObj) []api.Entry {
	d.mu.Lock()
	defer d.mu.Unlock()
	keys := slices.Sorted(maps.Keys(m.refs.entries))
	if m.m.KeySize() == 4 {
		sort.Slice(keys, func(i, j int) bool {
			return binary.NativeEndian.Uint32([]byte(keys[i])) < binary.NativeEndian.Uint32([]byte(keys[j]))
		})
	}
	out := []api.Entry{}
	for _, k := range keys {
		out = append(out, api.Entry{Key: []byte(k), Value: valueOf(m.refs.entries[k])})
	}
	return out
}

// scanRefs builds the tables of u's reference maps from what the map holds
// after the collection was created (a program array the object initialises
// statically); a program so held gets an ID. d.mu is held.
func (d *Daemon) scanRefs(u *unit) error {
	byID := map[uint32]any{}
	for name, bp := range u.coll.Programs {
		byID[bp.ID()] = name
	}
	for _, m := range u.maps {
		if !refMap(m.m.Type()) {
			continue
		}
		m.refs = &refTable{entries: map[string]*refEntry{}}
		var k []byte
		for {
			var next, v []byte
			var after any // the first key: nil, not a nil []byte
			if k != nil {
				after = k
			}
			err := m.m.NextKey(after, &next)
			if errors.Is(err, bpfhost.ErrKeyNotExist) {
				break
			}
			if err != nil {
				return fmt.Errorf("map %q: %w", m.m.Name(), err)
			}
			k = next
			// Arrays list every index; the empty ones have no value.
			if err := m.m.Lookup(k, &v); errors.Is(err, bpfhost.ErrKeyNotExist) {
				continue
			} else if err != nil {
				return fmt.Errorf("map %q: %w", m.m.Name(), err)
			}
			e := &refEntry{}
			if handleMap(m.m.Type()) {
				if len(v) != 4 {
					continue
				}
				id := binary.NativeEndian.Uint32(v)
				if m.m.Type() == bpfhost.MapProgArray {
					name, ok := byID[id].(string)
					if !ok {
						return fmt.Errorf("map %q holds program %d of no unit", m.m.Name(), id)
					}
					e.obj = d.progNamed(u, name)
				} else {
					for _, inner := range u.maps {
						if inner.m.ID() == id {
							e.obj = inner
						}
					}
					if e.obj == nil {
						return fmt.Errorf("map %q holds map %d of no unit", m.m.Name(), id)
					}
				}
				e.Target = refOf(e.obj)
			} else {
				e.Value = append([]byte(nil), v...)
			}
			d.setEntry(m, string(k), e)
		}
	}
	return nil
}

// progNamed returns u's program name, registering it if it has no ID
// yet (a program only a program array holds). d.mu is held.
func (d *Daemon) progNamed(u *unit, name string) *prog {
	for _, p := range u.progs {
		if p.p.Name() == name {
			return p
		}
	}
	return d.addProg(u, name, u.coll.Programs[name].Spec())
}

// refsDir is where a unit's reference maps' logs are.
func refsDir(unitDir string) string { return filepath.Join(unitDir, "refs") }

// openRefLogs opens the log of each reference map of u and writes the
// table into it (a snapshot).
func (d *Daemon) openRefLogs(u *unit) error {
	if u.dir == "" {
		return nil
	}
	dir := refsDir(u.dir)
	opened := false
	for _, m := range u.maps {
		if m.refs == nil {
			continue
		}
		if !opened {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return err
			}
			opened = true
		}
		w, err := d.openWAL(filepath.Join(dir, m.m.Name()))
		if err != nil {
			return err
		}
		m.refs.wal = w
		if err := w.replace(m.refs.snapshot()); err != nil {
			return err
		}
	}
	return nil
}

// readRefLog reads a reference map's log: the operations after the
// object's own initialisation, in order.
func readRefLog(path string) ([]walRecord, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, _, err := readRecords(f)
	return recs, err
}

// heldByLogs lists, per unit, the objects that the reference maps' logs
// of the units in ids name, so that a unit held only that way is restored
// and its programs get IDs.
func (d *Daemon) heldByLogs(ids []uint64) map[uint64]map[string]bool {
	held := map[uint64]map[string]bool{}
	for _, id := range ids {
		dir := refsDir(filepath.Join(d.unitsDir(), strconv.FormatUint(id, 10)))
		ents, _ := os.ReadDir(dir)
		for _, ent := range ents {
			recs, err := readRefLog(filepath.Join(dir, ent.Name()))
			if err != nil {
				continue
			}
			for _, r := range recs {
				var e refEntry
				if r.op != walUpdate || json.Unmarshal(r.value, &e) != nil || e.Target == nil {
					continue
				}
				if held[e.Target.Unit] == nil {
					held[e.Target.Unit] = map[string]bool{}
				}
				held[e.Target.Unit][e.Target.Kind+"/"+e.Target.Name] = true
			}
		}
	}
	return held
}

// refillRefs replays the logs of u's reference maps over the tables and
// refills the maps from them, once every unit is restored; an entry whose
// object did not come back is dropped. d.mu is held.
func (d *Daemon) refillRefs(u *unit) error {
	for _, m := range u.maps {
		if m.refs == nil {
			continue
		}
		recs, err := readRefLog(filepath.Join(refsDir(u.dir), m.m.Name()))
		if err != nil {
			return fmt.Errorf("map %q: %w", m.m.Name(), err)
		}
		for _, r := range recs {
			switch r.op {
			case walClear:
				for k := range m.refs.entries {
					d.setEntry(m, k, nil)
				}
			case walDelete:
				d.setEntry(m, string(r.key), nil)
			case walUpdate:
				var e refEntry
				if err := json.Unmarshal(r.value, &e); err != nil {
					return fmt.Errorf("map %q: log: %w", m.m.Name(), err)
				}
				if err := checkRefEntry(m, r.key, &e); err != nil {
					d.log.Warn("state: dropping a corrupt entry", "map", m.m.Name(), "err", err)
					d.setEntry(m, string(r.key), nil)
					continue
				}
				if e.Target != nil {
					if e.obj = d.resolve(e.Target); e.obj == nil {
						d.log.Warn("state: dropping an entry whose object is gone", "map", m.m.Name(), "object", e.Target.Name, "unit", e.Target.Unit)
						d.setEntry(m, string(r.key), nil)
						continue
					}
					if p, ok := e.obj.(*prog); ok && !handleMap(m.m.Type()) {
						if err := checkEntryProgram(m.m.Type(), p); err != nil {
							d.log.Warn("state: dropping a corrupt entry", "map", m.m.Name(), "err", err)
							d.setEntry(m, string(r.key), nil)
							continue
						}
					}
				}
				d.setEntry(m, string(r.key), &e)
			}
		}
		d.refill(m)
	}
	return d.openRefLogs(u)
}

// checkRefEntry checks that a log's entry at key is one an update of m
// could have made (entryFor): a key of m's size; for program arrays and
// maps of maps a target of the kind the map holds and no bytes; for
// devmaps and cpumaps bytes of m's value size and, only if they have the
// program field, a program.
func checkRefEntry(m *mapObj, key []byte, e *refEntry) error {
	if len(key) != int(m.m.KeySize()) {
		return fmt.Errorf("key of %d bytes, want %d", len(key), m.m.KeySize())
	}
	t := m.m.Type()
	if handleMap(t) {
		want := kindMap
		if t == bpfhost.MapProgArray {
			want = kindProg
		}
		if e.Target == nil || e.Target.Kind != want || e.Value != nil {
			return fmt.Errorf("a %s entry holds a %s", t, targetKind(t))
		}
		return nil
	}
	if len(e.Value) != int(m.m.ValueSize()) {
		return fmt.Errorf("value of %d bytes, want %d", len(e.Value), m.m.ValueSize())
	}
	if e.Target != nil && (e.Target.Kind != kindProg || len(e.Value) < progField+4) {
		return fmt.Errorf("a %s entry holds a program in bytes %d to %d", t, progField, progField+4)
	}
	return nil
}

// refill makes the map hold its table: every other key deleted, every
// entry set. An entry the map refuses (a devmap entry program that is not
// one, say) is dropped from the table, and logged, so that the table
// stays what the map holds. d.mu is held.
func (d *Daemon) refill(m *mapObj) {
	var keys [][]byte
	var k, v []byte
	it := m.m.Iterate()
	for it.Next(&k, &v) {
		if m.refs.entries[string(k)] == nil {
			keys = append(keys, append([]byte(nil), k...))
		}
	}
	for _, k := range keys {
		if err := m.m.Delete(k); err != nil {
			d.log.Error("state: clearing a map's entry", "map", m.m.Name(), "err", err)
		}
	}
	for k, e := range m.refs.entries {
		if err := m.apply([]byte(k), e, 0); err != nil {
			d.log.Warn("state: dropping an entry the map refuses", "map", m.m.Name(), "err", err)
			d.setEntry(m, k, nil)
		}
	}
}
