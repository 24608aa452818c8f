package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/bpfhost/bpfhost"
)

// The state directory holds one directory per persisted unit:
//
//	units/<n>/object.o     the ELF object, as the client sent it
//	units/<n>/unit.json    load options and pins (unitMeta); written last,
//	                       its presence commits the unit
//	units/<n>/maps/<name>  the write-ahead log (wal.go) of each map kept
//	                       without a memory file (queues, stacks, maps
//	                       with timers)
//	units/<n>/mem/<name>   the memory file of each array, hash map and LPM
//	                       trie (maps.InFile, docs/map-memory.md): values,
//	                       and for hash maps and tries entry records, mapped
//	                       shared, so that program and API stores alike
//	                       survive a SIGKILL; these maps have no log

const (
	kindProg = "prog"
	kindMap  = "map"
)

// unitMeta is what loads a unit again: its load options and pins.
type unitMeta struct {
	Type     string     `json:"type,omitempty"`
	Programs []string   `json:"programs"`
	Slots    int        `json:"slots"`
	LoadedAt time.Time  `json:"loaded_at"` // when a client loaded it; restarts keep it
	UID      uint32     `json:"uid"`       // the uid of the client that loaded it
	Pins     []pinMeta  `json:"pins"`
	Frozen   []string   `json:"frozen,omitempty"` // maps frozen for user space, by name
	Links    []linkMeta `json:"links,omitempty"`  // XDP links of its programs (links.go)
	// ObjectName is the object's name as libbpf has it (LoadRequest's),
	// which names its global data maps ("config.rodata").
	ObjectName string `json:"object_name,omitempty"`
	// Create, for a map created on its own (mapcreate.go), is its spec:
	// the unit has no object.
	Create *bpfhost.MapSpec `json:"create,omitempty"`
	// Reuse lists the maps of other units its programs use in place of
	// the object's own (mapreuse.go).
	Reuse []reuseMeta `json:"reuse,omitempty"`

	// held names ("prog/NAME", "map/NAME") the objects that other units'
	// reference maps hold, at a restore: they are registered although
	// not pinned.
	held map[string]bool
	// borrowed are the maps of other units the programs use, by the
	// object's map name (mapreuse.go).
	borrowed map[string]*mapObj
}

// pinMeta is one pin of a program or map of a unit, by name.
type pinMeta struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	Path string `json:"path"`
}

// persistable reports whether a map's contents are kept in its log: the
// types whose entries are plain bytes that iterate, look up and update.
func persistable(t bpfhost.MapType) bool {
	switch t {
	case bpfhost.MapHash, bpfhost.MapArray, bpfhost.MapPerCPUHash, bpfhost.MapPerCPUArray, bpfhost.MapLRUHash, bpfhost.MapLRUPerCPUHash, bpfhost.MapLPMTrie,
		bpfhost.MapQueue, bpfhost.MapStack:
		return true
	}
	return false
}

func (d *Daemon) unitsDir() string { return filepath.Join(d.opts.StateDir, "units") }

// persistNew writes a new unit to the state directory: object, empty map
// logs, then its metadata. d.mu is held.
func (d *Daemon) persistNew(u *unit) error {
	dir := filepath.Join(d.unitsDir(), strconv.FormatUint(u.id, 10))
	if err := os.MkdirAll(filepath.Join(dir, "maps"), 0o700); err != nil {
		return err
	}
	u.dir = dir
	if u.meta.Create == nil {
		if err := writeFileSync(filepath.Join(dir, "object.o"), u.object); err != nil {
			return err
		}
	}
	if err := d.openLogs(u); err != nil {
		return err
	}
	if err := d.openRefLogs(u); err != nil {
		return err
	}
	return d.writeMeta(u)
}

// openLogs opens the log of each persistable map of u.
func (d *Daemon) openLogs(u *unit) error {
	for _, m := range u.maps {
		if !persistable(m.m.Type()) || m.m.MemoryFile() != "" {
			continue
		}
		w, err := d.openWAL(filepath.Join(u.dir, "maps", m.m.Name()))
		if err != nil {
			return err
		}
		m.wal = w
	}
	return syncDir(filepath.Join(u.dir, "maps"))
}

// writeMeta records the unit's current pins. d.mu is held.
func (d *Daemon) writeMeta(u *unit) error {
	if u.dir == "" {
		return nil
	}
	meta := u.meta
	meta.Pins = nil
	for _, p := range u.progs {
		if p.live {
			for _, pin := range p.pins {
				meta.Pins = append(meta.Pins, pinMeta{Kind: kindProg, Name: p.p.Name(), Path: pin})
			}
		}
	}
	for _, m := range u.maps {
		if m.live {
			for _, pin := range m.pins {
				meta.Pins = append(meta.Pins, pinMeta{Kind: kindMap, Name: m.m.Name(), Path: pin})
			}
		}
	}
	meta.Links = linkMetas(u)
	b, err := json.MarshalIndent(meta, "", "\t")
	if err != nil {
		return err
	}
	return writeFileSync(filepath.Join(u.dir, "unit.json"), b)
}

// restore loads the units of the state directory again: their objects,
// pins and map contents. A unit that fails is logged and skipped.
func (d *Daemon) restore() error {
	root := d.unitsDir()
	if err := os.MkdirAll(root, 0o700); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	var ids []uint64
	for _, e := range ents {
		id, err := strconv.ParseUint(e.Name(), 10, 64)
		if err != nil || !e.IsDir() {
			d.log.Warn("state: ignoring unknown entry", "name", e.Name())
			continue
		}
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range ids {
		d.nextUnit = max(d.nextUnit, id)
	}
	// Every unit first, then what reference maps hold (the objects may
	// be in units restored later), then the links, whose programs may
	// tail-call through those maps; then what nothing holds any more
	// goes.
	held := d.heldByLogs(ids)
	d.heldByReuse(ids, held)
	var restored []*unit
	for _, id := range ids {
		dir := filepath.Join(root, strconv.FormatUint(id, 10))
		u, err := d.restoreUnit(id, dir, held[id])
		if err != nil {
			d.log.Error("state: cannot restore a unit", "dir", dir, "err", err)
			continue
		}
		if u != nil {
			restored = append(restored, u)
		}
	}
	for _, u := range restored {
		if err := d.refillRefs(u); err != nil {
			d.log.Error("state: cannot restore a map's entries", "dir", u.dir, "err", err)
		}
		for _, m := range u.maps {
			if m.refs != nil && slices.Contains(u.meta.Frozen, m.m.Name()) {
				m.m.Freeze()
			}
		}
	}
	// What nothing holds is collected only once every link is back: a
	// unit whose links are not attached yet is held by nothing.
	var dropped []*unit
	for _, u := range restored {
		if !u.closing && d.restoreLinks(u, u.meta.Links) {
			dropped = append(dropped, u)
		}
	}
	if err := d.collect(nil); err != nil {
		d.log.Error("state: unloading what nothing holds", "err", err)
	}
	for _, u := range dropped {
		if !u.closing {
			if err := d.writeMeta(u); err != nil {
				d.log.Error("state: persisting dropped links", "dir", u.dir, "err", err)
			}
		}
	}
	return nil
}

// restoreUnit loads the unit kept in dir and its maps' contents (nil if
// there was nothing to restore); held names its objects that other units'
// reference maps hold. Its links are attached later (restore). d.mu is
// held.
func (d *Daemon) restoreUnit(id uint64, dir string, held map[string]bool) (*unit, error) {
	mb, err := os.ReadFile(filepath.Join(dir, "unit.json"))
	if errors.Is(err, os.ErrNotExist) {
		// Never committed: the daemon died while loading it, before
		// the client was told.
		d.log.Info("state: removing an uncommitted unit", "dir", dir)
		return nil, os.RemoveAll(dir)
	}
	if err != nil {
		return nil, err
	}
	var meta unitMeta
	if err := json.Unmarshal(mb, &meta); err != nil {
		return nil, fmt.Errorf("unit.json: %w", err)
	}
	if len(meta.Pins) == 0 && len(meta.Links) == 0 && len(held) == 0 {
		return nil, os.RemoveAll(dir)
	}
	meta.held = held
	for _, p := range meta.Pins {
		if err := checkPinPath(p.Path); err != nil {
			return nil, err
		}
		if _, ok := d.pins[p.Path]; ok {
			return nil, fmt.Errorf("pin %s is taken by another unit", p.Path)
		}
	}
	var (
		object   []byte
		spec     *bpfhost.CollectionSpec
		verified map[string]*bpfhost.VerifiedProgram
	)
	if meta.Create != nil {
		// A map created on its own: no object, nothing to verify.
		spec = createdSpec(meta.Create)
	} else {
		if object, err = os.ReadFile(filepath.Join(dir, "object.o")); err != nil {
			return nil, err
		}
		if spec, err = bpfhost.LoadCollectionSpecFromReader(bytes.NewReader(object)); err != nil {
			return nil, fmt.Errorf("object: %w", err)
		}
		if meta.borrowed, err = d.restoredReuse(meta.Reuse); err != nil {
			return nil, err
		}
		over, err := reuseSpecs(spec, meta.borrowed)
		if err != nil {
			return nil, err
		}
		if spec, err = applyReuse(spec, over); err != nil {
			return nil, err
		}
		verified, err = d.verify(context.Background(), VerifyRequest{Object: object, Type: meta.Type, Programs: meta.Programs,
			KernelBTF: d.opts.KernelBTF, KernelConfig: d.opts.KernelConfig, Maps: over})
		if err != nil {
			// As at load: a verifier that crashes or hangs on the
			// stored object rejects it, and the daemon starts
			// without it.
			return nil, err
		}
	}
	u, err := d.loadUnit(id, spec, object, meta, verified)
	if err != nil {
		return nil, err
	}
	u.dir = dir
	for _, m := range u.maps {
		if !persistable(m.m.Type()) || m.m.Frozen() {
			// Frozen already: a constant data section (.rodata,
			// .kconfig), which NewCollection wrote and froze and
			// programs were verified against; its log holds those
			// same bytes, and user space may not write it.
			continue
		}
		logPath := filepath.Join(dir, "maps", m.m.Name())
		if m.m.MemoryFile() != "" {
			// The map's memory file holds its contents. A log is
			// left only by a daemon that kept none (an older
			// version): its contents come from the log once.
			if err := replayOnce(m.m, logPath); err != nil {
				d.closeUnit(u, false)
				return nil, fmt.Errorf("map %q: %w", m.m.Name(), err)
			}
			continue
		}
		if err := replay(m.m, logPath); err != nil {
			d.closeUnit(u, false)
			return nil, fmt.Errorf("map %q: %w", m.m.Name(), err)
		}
	}
	if err := d.openLogs(u); err != nil {
		d.closeUnit(u, false)
		return nil, err
	}
	for _, m := range u.maps {
		if err := d.snapshot(m); err != nil {
			d.closeUnit(u, false)
			return nil, err
		}
		if m.refs == nil && slices.Contains(meta.Frozen, m.m.Name()) {
			m.m.Freeze()
		}
	}
	d.log.Info("state: restored", "dir", dir, "links", len(meta.Links), "programs", len(u.progs), "maps", len(u.maps), "pins", len(meta.Pins))
	return u, nil
}

// replay applies a map's log to the map.
func replay(m *bpfhost.Map, logPath string) error {
	f, err := os.Open(logPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	recs, _, err := readRecords(f)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if isQueue(m.Type()) {
			if err := replayQueue(m, r); err != nil {
				return fmt.Errorf("replaying the log of a %s: %w", m.Type(), err)
			}
			continue
		}
		switch r.op {
		case walClear:
			clearMap(m)
		case walDelete:
			if err := m.Delete(r.key); err != nil && !errors.Is(err, bpfhost.ErrKeyNotExist) {
				return fmt.Errorf("replaying a delete: %w", err)
			}
		case walUpdate:
			if err := m.Update(r.key, r.value, bpfhost.MapUpdateFlags(0)); err != nil {
				return fmt.Errorf("replaying an update: %w", err)
			}
		}
	}
	return nil
}

// clearMap deletes every key of a map that allows deleting (not arrays,
// whose snapshot sets every element).
func clearMap(m *bpfhost.Map) {
	if t := m.Type(); t == bpfhost.MapArray || t == bpfhost.MapPerCPUArray {
		return
	}
	var keys [][]byte
	var k []byte
	it := m.Iterate()
	var v []byte
	for it.Next(&k, &v) {
		keys = append(keys, append([]byte(nil), k...))
	}
	for _, k := range keys {
		m.Delete(k)
	}
}

// snapshot replaces a map's log by its current contents. The caller holds
// the unit's wmu (or owns the unit alone).
func (d *Daemon) snapshot(m *mapObj) error {
	if m.wal == nil {
		// A map memory file is its own snapshot: sync it.
		return d.syncMemory(m)
	}
	if isQueue(m.m.Type()) {
		return m.wal.replace(queueSnapshot(m.m))
	}
	recs := []walRecord{{op: walClear}}
	var k, v []byte
	it := m.m.Iterate()
	for it.Next(&k, &v) {
		recs = append(recs, walRecord{op: walUpdate, key: append([]byte(nil), k...), value: append([]byte(nil), v...)})
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("map %q: snapshot: %w", m.m.Name(), err)
	}
	return m.wal.replace(recs)
}

// syncMemory msyncs m's memory file, unless Options.NoSync.
func (d *Daemon) syncMemory(m *mapObj) error {
	if d.opts.NoSync {
		return nil
	}
	return m.m.SyncMemory()
}

// openWAL opens the log at path, synced on append unless Options.NoSync.
func (d *Daemon) openWAL(path string) (*wal, error) {
	w, err := openWAL(path)
	if err == nil {
		w.nosync = d.opts.NoSync
	}
	return w, err
}

// memDir is the directory of the map memory files of unit id, "" without a
// state directory.
func (d *Daemon) memDir(id uint64) string {
	if d.opts.StateDir == "" || d.opts.logsOnly {
		return ""
	}
	return filepath.Join(d.unitsDir(), strconv.FormatUint(id, 10), "mem")
}

// removeUnitDir removes what a failed load of unit id left in the state
// directory (its map memory files).
func (d *Daemon) removeUnitDir(id uint64) {
	if d.opts.StateDir == "" {
		return
	}
	dir := filepath.Join(d.unitsDir(), strconv.FormatUint(id, 10))
	if err := os.RemoveAll(dir); err != nil {
		d.log.Error("state: removing a failed load", "dir", dir, "err", err)
	}
}

// replayOnce applies a map's log, if there is one, and removes it: the map
// keeps its contents in its memory file from now on.
func replayOnce(m *bpfhost.Map, logPath string) error {
	if _, err := os.Stat(logPath); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := replay(m, logPath); err != nil {
		return err
	}
	return os.Remove(logPath)
}
