package daemon

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/isa"
)

// progInfo describes p. d.mu is held.
func (d *Daemon) progInfo(p *prog) api.ProgInfo {
	return api.ProgInfo{
		ID: p.id, Type: p.p.Type(), Name: p.p.Name(), Tag: p.tag, GPLCompatible: p.gpl,
		RunTimeNs: p.runNs.Load(), RunCnt: p.runs.Load(), LoadedAt: p.loadedAt.Unix(), UID: p.uid,
		BytesXlated: len(p.p.Instructions()) * isa.InstructionSize, Jited: p.p.Engine() == "jit", BytesJited: p.jitedSize(),
		MapIDs: append([]uint32(nil), p.mapIDs...), Pinned: append([]string(nil), p.pins...),
	}
}

// mapInfo describes m. d.mu is held.
func (d *Daemon) mapInfo(m *mapObj) api.MapInfo {
	info := api.MapInfo{
		ID: m.id, Type: m.m.Type().String(), Name: m.name, Flags: m.flags,
		BytesKey: m.m.KeySize(), BytesValue: m.m.ValueSize(), MaxEntries: m.m.MaxEntries(),
		BytesMemlock: m.mem, Pinned: append([]string(nil), m.pins...), MemoryFile: m.m.MemoryFile(),
	}
	if m.m.Frozen() {
		info.Frozen = 1
	}
	if p := d.arrayOwner(m); p != nil {
		jited := p.p.Engine() == "jit"
		info.OwnerProgType, info.OwnerJited = p.p.Type(), &jited
	}
	return info
}

// Programs lists the live programs by ID.
func (d *Daemon) Programs() []api.ProgInfo {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := []api.ProgInfo{}
	for _, p := range d.progs {
		out = append(out, d.progInfo(p))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Maps lists the live maps by ID.
func (d *Daemon) Maps() []api.MapInfo {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := []api.MapInfo{}
	for _, m := range d.maps {
		out = append(out, d.mapInfo(m))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// findProg resolves a reference. d.mu is held.
func (d *Daemon) findProg(r api.Ref) (*prog, error) {
	if err := checkRef(r); err != nil {
		return nil, err
	}
	switch {
	case r.ID != 0:
		if p := d.progs[r.ID]; p != nil {
			return p, nil
		}
		return nil, errorf(api.CodeNotFound, "no program with id %d", r.ID)
	case r.Pinned != "":
		p, ok := d.pins[r.Pinned].(*prog)
		if !ok {
			return nil, errorf(api.CodeNotFound, "no program pinned at %s", r.Pinned)
		}
		return p, nil
	}
	what, match := "named "+strconv.Quote(r.Name), func(p *prog) bool { return p.p.Name() == r.Name }
	if r.Tag != "" {
		tag := strings.ToLower(r.Tag)
		what, match = "with tag "+tag, func(p *prog) bool { return p.tag == tag }
	}
	var found *prog
	for _, p := range d.progs {
		if match(p) {
			if found != nil {
				return nil, errorf(api.CodeInvalid, "more than one program is %s: use id or pinned", what)
			}
			found = p
		}
	}
	if found == nil {
		return nil, errorf(api.CodeNotFound, "no program %s", what)
	}
	return found, nil
}

// findMap resolves a reference. d.mu is held.
func (d *Daemon) findMap(r api.Ref) (*mapObj, error) {
	if err := checkRef(r); err != nil {
		return nil, err
	}
	if r.Tag != "" {
		return nil, errorf(api.CodeInvalid, "a tag names a program, not a map")
	}
	switch {
	case r.ID != 0:
		if m := d.maps[r.ID]; m != nil {
			return m, nil
		}
		return nil, errorf(api.CodeNotFound, "no map with id %d", r.ID)
	case r.Pinned != "":
		m, ok := d.pins[r.Pinned].(*mapObj)
		if !ok {
			return nil, errorf(api.CodeNotFound, "no map pinned at %s", r.Pinned)
		}
		return m, nil
	}
	var found *mapObj
	for _, m := range d.maps {
		// The name bpftool shows ("config.rodata"), or the section's.
		if m.name == r.Name || m.m.Name() == r.Name {
			if found != nil {
				return nil, errorf(api.CodeInvalid, "more than one map is named %q: use id or pinned", r.Name)
			}
			found = m
		}
	}
	if found == nil {
		return nil, errorf(api.CodeNotFound, "no map named %q", r.Name)
	}
	return found, nil
}

func checkRef(r api.Ref) error {
	n := 0
	if r.ID != 0 {
		n++
	}
	if r.Name != "" {
		n++
	}
	if r.Pinned != "" {
		n++
	}
	if r.Tag != "" {
		n++
	}
	if n != 1 {
		return errorf(api.CodeInvalid, "name the object by exactly one of id, name, tag or pinned")
	}
	return nil
}

// Program describes one program.
func (d *Daemon) Program(r api.Ref) (api.ProgInfo, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p, err := d.findProg(r)
	if err != nil {
		return api.ProgInfo{}, err
	}
	return d.progInfo(p), nil
}

// Map describes one map.
func (d *Daemon) Map(r api.Ref) (api.MapInfo, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	m, err := d.findMap(r)
	if err != nil {
		return api.MapInfo{}, err
	}
	return d.mapInfo(m), nil
}

// Pin adds a pin for a program (prog true) or map.
func (d *Daemon) Pin(r api.Ref, at string, isProg bool) error {
	if err := checkNewPinPath(at); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.pins[at]; ok {
		return errorf(api.CodeExists, "pin %s: already exists", at)
	}
	var u *unit
	if isProg {
		p, err := d.findProg(r)
		if err != nil {
			return err
		}
		p.pins = append(p.pins, at)
		d.pins[at] = p
		u = p.u
	} else {
		m, err := d.findMap(r)
		if err != nil {
			return err
		}
		m.pins = append(m.pins, at)
		d.pins[at] = m
		u = m.u
	}
	if err := d.writeMeta(u); err != nil {
		return errorf(api.CodeInternal, "persisting the pin: %w", err)
	}
	return nil
}

// Unpin removes a pin. The object goes when nothing holds it any more: a
// program when it has no pin and no link; a map when it has no pin and no program of
// its object lives.
func (d *Daemon) Unpin(at string) error {
	if err := checkPinPath(at); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	obj, ok := d.pins[at]
	if !ok {
		return errorf(api.CodeNotFound, "pin %s: no such pin", at)
	}
	delete(d.pins, at)
	var u *unit
	switch o := obj.(type) {
	case *prog:
		o.pins = remove(o.pins, at)
		u = o.u
	case *mapObj:
		o.pins = remove(o.pins, at)
		u = o.u
	case *linkObj:
		// The link stays attached (links.go): only the name goes.
		o.pins = remove(o.pins, at)
		u = o.p.u
	}
	return d.collect(u)
}

// collect unloads what no longer lives, and units of which nothing does;
// then it persists u's pins and links (u may be nil). What lives is what
// the roots reach: pinned programs and maps, programs with links; a live
// program keeps the maps of its unit, a live reference map the objects its
// entries hold (refs.go). d.mu is held.
func (d *Daemon) collect(u *unit) error {
	marked := map[any]bool{}
	var work []any
	mark := func(o any) {
		if o != nil && !marked[o] {
			marked[o] = true
			work = append(work, o)
		}
	}
	for _, x := range d.units {
		for _, p := range x.progs {
			if p.live && (len(p.pins) > 0 || len(p.links) > 0) {
				mark(p)
			}
		}
		for _, m := range x.maps {
			if m.live && len(m.pins) > 0 {
				mark(m)
			}
		}
	}
	for len(work) > 0 {
		o := work[len(work)-1]
		work = work[:len(work)-1]
		switch o := o.(type) {
		case *prog:
			for _, m := range o.u.maps {
				if m.live {
					mark(m)
				}
			}
			for _, m := range o.u.borrowed {
				if m.live {
					mark(m)
				}
			}
		case *mapObj:
			if o.refs != nil {
				for _, e := range o.refs.entries {
					mark(e.obj)
				}
			}
		}
	}
	var errs []error
	for _, x := range d.units {
		live := 0
		for _, p := range x.progs {
			if p.live && !marked[p] {
				p.live = false
				delete(d.progs, p.id)
			}
			if p.live {
				live++
			}
		}
		for _, m := range x.maps {
			if m.live && !marked[m] {
				m.live = false
				delete(d.maps, m.id)
			}
			if m.live {
				live++
			}
		}
		if live == 0 {
			errs = append(errs, d.closeUnit(x, true))
		}
	}
	if u != nil && !u.closing {
		if err := d.writeMeta(u); err != nil {
			errs = append(errs, errorf(api.CodeInternal, "persisting the unpin: %w", err))
		}
	}
	return errors.Join(errs...)
}

func remove(list []string, s string) []string {
	out := list[:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// Run runs a program as BPF_PROG_TEST_RUN does, then persists the maps of
// its object, which the run may have changed.
func (d *Daemon) Run(ctx context.Context, req api.RunRequest) (api.RunResult, error) {
	d.mu.Lock()
	p, err := d.findProg(req.Prog)
	if err == nil {
		d.hold(p.u)
		defer d.release(p.u)
	}
	d.mu.Unlock()
	if err != nil {
		return api.RunResult{}, err
	}
	// A non-nil DataOut asks for the packet after the run.
	opts := &bpfhost.RunOptions{Data: req.DataIn, DataOut: make([]byte, 0, len(req.DataIn)), Repeat: req.Repeat, Ctx: ctx}
	if len(req.CtxIn) > 0 {
		if opts.Context, err = runContext(p.p, req.CtxIn); err != nil {
			return api.RunResult{}, err
		}
	}
	var ctxOut []byte
	if req.WantCtxOut {
		opts.ContextOut = &ctxOut
	}
	start := time.Now()
	ret, err := p.p.Run(opts)
	if err == nil {
		p.runs.Add(uint64(max(req.Repeat, 1)))
		p.runNs.Add(uint64(time.Since(start)))
	}
	// Persist what the run changed even if it failed half way.
	u := p.u
	u.wmu.Lock()
	var serr error
	for _, m := range u.maps {
		serr = errors.Join(serr, d.snapshot(m))
	}
	u.wmu.Unlock()
	// Maps of other units the program uses (mapreuse.go), under their
	// units' locks; a unit only reuses maps of units loaded before it, so
	// these locks are never taken in the other order.
	for _, m := range u.borrowed {
		m.u.wmu.Lock()
		serr = errors.Join(serr, d.snapshot(m))
		m.u.wmu.Unlock()
	}
	if err != nil {
		return api.RunResult{}, errorf(api.CodeInvalid, "%w", err)
	}
	if serr != nil {
		return api.RunResult{}, errorf(api.CodeInternal, "persisting the maps after the run: %w", serr)
	}
	return api.RunResult{Retval: ret, Duration: opts.Duration.Nanoseconds(), DataOut: opts.DataOut, CtxOut: ctxOut}, nil
}

// mapFor resolves a map for an operation, which must call release when
// done with the map.
func (d *Daemon) mapFor(r api.Ref) (m *mapObj, release func(), err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if m, err = d.findMap(r); err != nil {
		return nil, nil, err
	}
	d.hold(m.u)
	return m, func() { d.release(m.u) }, nil
}

// valueFor expands a per-CPU value given once to every slot.
func valueFor(m *bpfhost.Map, v []byte) []byte {
	if !m.Type().PerCPU() || len(v) != int(m.ValueSize()) {
		return v
	}
	stride := int((m.ValueSize() + 7) &^ 7)
	out := make([]byte, stride*m.Slots())
	for i := 0; i < m.Slots(); i++ {
		copy(out[i*stride:], v)
	}
	return out
}

// Lookup returns the value of a key.
func (d *Daemon) Lookup(req api.MapRequest) (api.MapResult, error) {
	m, release, err := d.mapFor(req.Map)
	if err != nil {
		return api.MapResult{}, err
	}
	defer release()
	m.countOp(opLookup)
	if m.refs != nil {
		v, err := d.lookupRef(m, req.Key)
		if err != nil {
			return api.MapResult{}, err
		}
		res := api.MapResult{Entries: []api.Entry{{Key: req.Key, Value: v}}}
		m.format(req.Formatted, res.Entries, 0)
		return res, nil
	}
	var v []byte
	if err := m.m.Lookup(req.Key, &v); err != nil {
		return api.MapResult{}, err
	}
	res := api.MapResult{Entries: []api.Entry{{Key: req.Key, Value: v}}, Slots: slotsOf(m.m)}
	m.format(req.Formatted, res.Entries, res.Slots)
	res.Typed = req.Formatted != "" && m.types != nil
	return res, nil
}

// format fills the entries' Formatted documents, as asked ("json" or
// "plain"), for a map with BTF types; an entry the types do not fit keeps
// none.
func (m *mapObj) format(how string, entries []api.Entry, slots int) {
	if how == "" || m.types == nil {
		return
	}
	for i := range entries {
		if f, err := formatEntry(*m.types, entries[i].Key, entries[i].Value, slots, how == "plain"); err == nil {
			entries[i].Formatted = f
		}
	}
}

func slotsOf(m *bpfhost.Map) int {
	if m.Type().PerCPU() {
		return m.Slots()
	}
	return 0
}

// writable refuses writes the daemon could not persist: maps with neither
// a log nor a memory file.
func writable(m *mapObj) error {
	if !persistable(m.m.Type()) && m.m.MemoryFile() == "" && m.u.dir != "" {
		return errorf(api.CodeNotSupp, "map %q: writing a %s map through the daemon is not supported yet", m.m.Name(), m.m.Type())
	}
	return nil
}

// Update sets a key's value; when it returns nil the update is on disk.
func (d *Daemon) Update(req api.MapRequest) error {
	m, release, err := d.mapFor(req.Map)
	if err != nil {
		return err
	}
	defer release()
	m.countOp(opUpdate)
	if req.Flags > 2 {
		return errorf(api.CodeInvalid, "update flags %d: want 0 (any), 1 (noexist) or 2 (exist)", req.Flags)
	}
	if m.refs != nil {
		return d.updateRef(m, req)
	}
	if req.ValueRef != nil {
		return errorf(api.CodeInvalid, "map %q: a %s map's values are bytes, not objects", m.m.Name(), m.m.Type())
	}
	if err := writable(m); err != nil {
		return err
	}
	v := valueFor(m.m, req.Value)
	m.u.wmu.Lock()
	defer m.u.wmu.Unlock()
	if err := m.m.Update(req.Key, v, bpfhost.MapUpdateFlags(req.Flags)); err != nil {
		return err
	}
	if err := d.syncMemory(m); err != nil {
		return errorf(api.CodeInternal, "%w", err)
	}
	if m.wal != nil {
		if err := m.wal.append(walRecord{op: walUpdate, flags: req.Flags, key: req.Key, value: v}); err != nil {
			return errorf(api.CodeInternal, "%w", err)
		}
		d.compact(m)
	}
	return nil
}

// Delete deletes a key; when it returns nil the deletion is on disk.
func (d *Daemon) Delete(req api.MapRequest) error {
	m, release, err := d.mapFor(req.Map)
	if err != nil {
		return err
	}
	defer release()
	m.countOp(opDelete)
	if m.refs != nil {
		return d.deleteRef(m, req.Key)
	}
	if err := writable(m); err != nil {
		return err
	}
	m.u.wmu.Lock()
	defer m.u.wmu.Unlock()
	if err := m.m.Delete(req.Key); err != nil {
		return err
	}
	if err := d.syncMemory(m); err != nil {
		return errorf(api.CodeInternal, "%w", err)
	}
	if m.wal != nil {
		if err := m.wal.append(walRecord{op: walDelete, key: req.Key}); err != nil {
			return errorf(api.CodeInternal, "%w", err)
		}
		d.compact(m)
	}
	return nil
}

// Freeze makes a map read-only for user space (BPF_MAP_FREEZE); programs
// still write it. A restart keeps it frozen.
func (d *Daemon) Freeze(r api.Ref) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	m, err := d.findMap(r)
	if err != nil {
		return err
	}
	if m.m.Frozen() {
		return errorf(api.CodeBusy, "map %q is already frozen", m.m.Name())
	}
	if err := m.m.Freeze(); err != nil {
		return err
	}
	m.u.meta.Frozen = append(m.u.meta.Frozen, m.m.Name())
	if err := d.writeMeta(m.u); err != nil {
		return errorf(api.CodeInternal, "persisting the freeze: %w", err)
	}
	return nil
}

// compact replaces a map's log by a snapshot when it has grown. The
// update before it is already durable, so a failure is only logged: the
// log stays as it was. The caller holds the unit's wmu.
func (d *Daemon) compact(m *mapObj) {
	if !m.wal.needsCompaction(m.mem) {
		return
	}
	if err := d.snapshot(m); err != nil {
		d.log.Error("compacting a map log", "map", m.m.Name(), "err", err)
	}
}

// NextKey returns the key after req.Key, or the first with NoKey.
func (d *Daemon) NextKey(req api.MapRequest) (api.MapResult, error) {
	m, release, err := d.mapFor(req.Map)
	if err != nil {
		return api.MapResult{}, err
	}
	defer release()
	m.countOp(opNextKey)
	var key any
	if !req.NoKey {
		key = req.Key
	}
	var next []byte
	if err := m.m.NextKey(key, &next); err != nil {
		return api.MapResult{}, err
	}
	return api.MapResult{NextKey: next}, nil
}

// maxDump bounds the entries of one dump, so that a huge map does not
// build a huge response.
const maxDump = 1 << 20

// Dump returns every entry of a map.
func (d *Daemon) Dump(req api.MapRequest) (api.MapResult, error) {
	m, release, err := d.mapFor(req.Map)
	if err != nil {
		return api.MapResult{}, err
	}
	defer release()
	m.countOp(opDump)
	if m.refs != nil {
		res := api.MapResult{Entries: d.dumpRef(m)}
		m.format(req.Formatted, res.Entries, 0)
		res.Typed = req.Formatted != "" && m.types != nil
		return res, nil
	}
	switch m.m.Type() {
	case bpfhost.MapRingBuf, bpfhost.MapPerfEventArray, bpfhost.MapQueue, bpfhost.MapStack, bpfhost.MapBloomFilter:
		return api.MapResult{}, errorf(api.CodeNotSupp, "map %q: dumping a %s map is not supported yet", m.m.Name(), m.m.Type())
	}
	res := api.MapResult{Entries: []api.Entry{}, Slots: slotsOf(m.m)}
	var k, v []byte
	it := m.m.Iterate()
	for it.Next(&k, &v) {
		if len(res.Entries) == maxDump {
			return api.MapResult{}, errorf(api.CodeTooBig, "map %q has more than %d entries", m.m.Name(), maxDump)
		}
		res.Entries = append(res.Entries, api.Entry{Key: append([]byte(nil), k...), Value: append([]byte(nil), v...)})
	}
	if err := it.Err(); err != nil {
		return api.MapResult{}, fmt.Errorf("dump: %w", err)
	}
	m.format(req.Formatted, res.Entries, res.Slots)
	res.Typed = req.Formatted != "" && m.types != nil
	return res, nil
}
