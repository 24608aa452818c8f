package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/daemon/api"
)

// Options configure a Daemon.
type Options struct {
	// StateDir keeps every pinned object; "" keeps nothing (a daemon for
	// tests, whose objects die with it).
	StateDir string
	// Engine is "interp" to interpret only (the --no-jit policy) or "" for
	// the default engine.
	Engine string
	// MaxInstructions refuses programs with more instruction slots; 0
	// means DefaultMaxInstructions.
	MaxInstructions int
	// MapMemory is the most bytes all maps together may preallocate
	// (bpfhost.MapMemory of each); 0 means bpfhost.DefaultMemoryLimit.
	MapMemory int64
	// MaxObjectSize refuses bigger ELF objects; 0 means DefaultMaxObjectSize.
	MaxObjectSize int
	// Slots is the number of execution slots of every collection; 0 means
	// the root package's default. A restored collection keeps the slots it
	// was loaded with.
	Slots int
	// Verify, if not nil, verifies an object before it is loaded, in
	// isolation (see ChildVerifier); an error rejects the load. Its
	// verdict is what the load uses: the daemon does not verify the
	// programs again (a verdict for another request, or one that does not
	// match a program, rejects the load).
	Verify func(ctx context.Context, req VerifyRequest) (*Verdict, error)
	// Logger receives the daemon's log; nil means slog.Default().
	Logger *slog.Logger
	// NoSync acknowledges map writes once they are in the kernel's page
	// cache (the map's memory file or log), without msync or fsync: they
	// survive the daemon being killed, not a machine crash (out of the
	// daemon's scope), and an update's round trip costs a lookup's.
	// Objects, pins and links are still synced.
	NoSync bool
	// KernelBTF and KernelConfig are the kernel BTF and configuration
	// files that every load (in the verifier child too) uses, as
	// bpfhost.CollectionOptions's fields: "" means the running kernel's.
	KernelBTF, KernelConfig string
	// logsOnly keeps every map's contents in logs, without map memory
	// files, as on systems that have none: tests cover that path on Linux.
	logsOnly bool
}

// Policy defaults.
const (
	DefaultMaxInstructions = 1_000_000
	DefaultMaxObjectSize   = 64 << 20
)

// Daemon owns programs and maps, their IDs and pins. Its methods are safe
// for concurrent use.
type Daemon struct {
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	nextID   uint32
	nextUnit uint64
	progs    map[uint32]*prog
	maps     map[uint32]*mapObj
	pins     map[string]any // *prog, *mapObj or *linkObj
	links    map[uint32]*linkObj
	units    map[uint64]*unit
	memUsed  int64
	closed   bool
	lock     *os.File // the state directory's lock
	metrics  metrics

	// maxKey and maxValue are the largest key and value of the maps made
	// since the start, which bound a map call's body (bodylimits.go).
	maxKey, maxValue atomicMax
}

// unit is one loaded object: a collection, whose programs and maps live
// and die together in bpfhost, and what is needed to load it again.
type unit struct {
	id     uint64
	coll   *bpfhost.Collection
	object []byte
	meta   unitMeta
	dir    string // state directory of the unit, "" if not persisted
	mem    int64
	progs  []*prog
	maps   []*mapObj
	// borrowed are the maps of other units its programs use in place of
	// the object's, by the object's map name (mapreuse.go).
	borrowed map[string]*mapObj

	// wmu orders writes to the unit's maps made through the API with
	// their log records and snapshots.
	wmu sync.Mutex

	// users counts the calls using the unit's programs or maps (under
	// d.mu); a unit closed while used is released by its last user.
	users   int
	closing bool
	forget  bool
	// deps counts, per other unit, the entries of this unit's reference
	// maps that hold its objects (refs.go); each unit in it is held
	// (heldBy) until this unit is closed and no call uses it, so that
	// no run of this unit's programs can reach a closed program.
	deps map[*unit]int
	// heldBy counts the units whose deps hold this one; the collection
	// is closed when it is closed, unused and not held.
	heldBy int
}

// prog is a registered program.
type prog struct {
	id       uint32
	p        *bpfhost.Program
	u        *unit
	spec     *bpfhost.ProgramSpec
	tag      string
	gpl      bool
	loadedAt time.Time
	uid      uint32
	mapIDs   []uint32
	pins     []string
	live     bool
	links    []*linkObj // the links that hold it
	runs     atomic.Uint64
	runNs    atomic.Uint64
	jited    atomic.Int64 // bytes of machine code, once measured (jited.go)
}

// mapObj is a registered map.
type mapObj struct {
	id uint32
	m  *bpfhost.Map
	// name is the map's name as bpftool shows it (libbpfMapName): a
	// global data map's has the object's name before the section's.
	name string
	// flags are the map's flags as Linux shows them: libbpf creates
	// global data maps mmapable.
	flags uint32
	// spec is the map's spec in its object (or as created).
	spec *bpfhost.MapSpec
	// types are its key's and value's BTF types, if it has them and
	// bpftool formats its entries (btfdump.go).
	types *mapTypes
	u     *unit
	pins  []string
	live  bool
	wal   *wal // nil for maps whose contents are not persisted
	// refs is the contents of a program array, map of maps, devmap or
	// cpumap (refs.go); nil for other maps.
	refs *refTable
	mem  int64
	ops  [numOps]atomic.Uint64
}

// Error is a failure with an API error code.
type Error struct {
	Code string
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func errorf(code, format string, args ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// CodeOf is the API error code of err.
func CodeOf(err error) string {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.Code
	case errors.Is(err, bpfhost.ErrKeyNotExist):
		return api.CodeNotFound
	case errors.Is(err, bpfhost.ErrKeyExist):
		return api.CodeExists
	case errors.Is(err, bpfhost.ErrMapFull), errors.Is(err, bpfhost.ErrMemoryLimit):
		return api.CodeTooBig
	case errors.Is(err, bpfhost.ErrInvalid):
		return api.CodeInvalid
	case errors.Is(err, bpfhost.ErrPermission):
		return api.CodePerm
	}
	var ve *bpfhost.VerifierError
	if errors.As(err, &ve) {
		return api.CodeRejected
	}
	// An error no check above knows is the daemon's own failure, not
	// the request's fault: EIO, as Linux answers what it cannot
	// classify, never EINVAL, which would send the client looking
	// for a mistake in its request.
	return api.CodeInternal
}

// New starts a daemon and restores the objects its state directory keeps.
// Objects that cannot be restored are logged and left in place.
func New(opts Options) (*Daemon, error) {
	if opts.MaxInstructions == 0 {
		opts.MaxInstructions = DefaultMaxInstructions
	}
	if opts.MapMemory == 0 {
		opts.MapMemory = bpfhost.DefaultMemoryLimit
	}
	if opts.MaxObjectSize == 0 {
		opts.MaxObjectSize = DefaultMaxObjectSize
	}
	d := &Daemon{
		opts: opts, log: opts.Logger,
		progs: map[uint32]*prog{}, maps: map[uint32]*mapObj{},
		pins: map[string]any{}, units: map[uint64]*unit{},
		links: map[uint32]*linkObj{},
	}
	d.metrics.refused = map[string]uint64{}
	if d.log == nil {
		d.log = slog.Default()
	}
	if opts.StateDir != "" {
		if err := os.MkdirAll(opts.StateDir, 0o700); err != nil {
			return nil, fmt.Errorf("state directory: %w", err)
		}
		if err := checkStateDir(opts.StateDir); err != nil {
			return nil, err
		}
		lock, err := lockState(opts.StateDir)
		if err != nil {
			return nil, err
		}
		d.lock = lock
		if err := d.restore(); err != nil {
			lock.Close()
			return nil, err
		}
	}
	return d, nil
}

// Close unloads everything; the state directory keeps the pinned objects.
func (d *Daemon) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	var errs []error
	for _, u := range d.units {
		errs = append(errs, d.closeUnit(u, false))
	}
	d.units = map[uint64]*unit{}
	d.progs, d.maps, d.pins, d.links = map[uint32]*prog{}, map[uint32]*mapObj{}, map[string]any{}, map[uint32]*linkObj{}
	if d.lock != nil {
		errs = append(errs, d.lock.Close())
		d.lock = nil
	}
	return errors.Join(errs...)
}

// Engine is the default engine the daemon loads programs with.
func (d *Daemon) Engine() string {
	if d.opts.Engine == "" {
		return "jit"
	}
	return d.opts.Engine
}

// checkPinPath checks that p is a pin path: absolute and clean.
func checkPinPath(p string) error {
	if p == "" || !path.IsAbs(p) || path.Clean(p) != p || p == "/" || strings.ContainsRune(p, 0) {
		return errorf(api.CodeInvalid, "pin path %q: want an absolute, clean path below /", p)
	}
	return nil
}

// Load verifies and loads an object, pins its programs and (PinMaps) maps,
// and persists it before returning.
func (d *Daemon) Load(ctx context.Context, req api.LoadRequest) (api.LoadResult, error) {
	res, err := d.load(ctx, req)
	if err != nil {
		d.mu.Lock()
		d.metrics.refused[CodeOf(err)]++
		d.mu.Unlock()
	}
	return res, err
}

func (d *Daemon) load(ctx context.Context, req api.LoadRequest) (api.LoadResult, error) {
	var res api.LoadResult
	if len(req.Object) == 0 {
		return res, errorf(api.CodeInvalid, "no object")
	}
	if len(req.Object) > d.opts.MaxObjectSize {
		return res, errorf(api.CodeTooBig, "object of %d bytes, the limit is %d", len(req.Object), d.opts.MaxObjectSize)
	}
	if err := checkNewPinPath(req.PinPath); err != nil {
		return res, err
	}
	if req.PinMaps != "" {
		if err := checkNewPinPath(req.PinMaps); err != nil {
			return res, err
		}
	}
	spec, err := bpfhost.LoadCollectionSpecFromReader(bytes.NewReader(req.Object))
	if err != nil {
		return res, errorf(api.CodeInvalid, "object: %w", err)
	}
	var names []string
	switch {
	case req.All:
		// In libbpf's order, which the programs' IDs then follow.
		names = programOrder(req.Object, spec, true)
	case req.Program != "":
		names = []string{req.Program}
	default:
		// bpftool pins the first program of the object, in its ELF
		// order; the spec sorts programs by name.
		if first := firstProgram(req.Object, spec); first != "" {
			names = []string{first}
		} else if len(spec.Programs) > 0 {
			names = []string{spec.Programs[0].Name}
		}
	}
	if len(names) == 0 && !req.All {
		// bpftool's message; "prog loadall" of such an object loads
		// its maps (pinmaps, pins by name) and succeeds, as bpftool's.
		return res, errorf(api.CodeInvalid, "object file doesn't contain any bpf program")
	}
	if req.Program == "" {
		if err := checkAutoload(spec, names); err != nil {
			return res, err
		}
	}
	if err := checkPinNames(spec, names, req); err != nil { // pinpath.go
		return res, err
	}
	for _, n := range names {
		ps := findProgram(spec, n)
		if ps == nil {
			return res, errorf(api.CodeNotFound, "object has no program %q", n)
		}
		if len(ps.Instructions) > d.opts.MaxInstructions {
			return res, errorf(api.CodeTooBig, "program %q has %d instructions, the limit is %d", n, len(ps.Instructions), d.opts.MaxInstructions)
		}
	}
	meta := unitMeta{Type: req.Type, Programs: names, Slots: d.opts.Slots, LoadedAt: time.Now(), ObjectName: req.ObjectName}
	if meta.Slots == 0 {
		meta.Slots = bpfhost.DefaultSlots()
	}
	if peer, ok := ctx.Value(peerKey{}).(Peer); ok {
		meta.UID = peer.UID
	}
	var namePins []pinMeta
	d.mu.Lock()
	meta.borrowed, err = d.resolveReuse(req.Object, spec, req.ObjectName, req.Maps)
	if err == nil {
		meta.borrowed, namePins, err = d.pinByName(spec, req.ObjectName, req.PinMaps, meta.borrowed)
	}
	d.mu.Unlock()
	if err != nil {
		return res, err
	}
	d.mu.Lock()
	over, err := reuseSpecs(spec, meta.borrowed)
	d.mu.Unlock()
	if err != nil {
		return res, err
	}
	if spec, err = applyReuse(spec, over); err != nil {
		return res, err
	}
	meta.Reuse = reuseMetas(meta.borrowed)
	verified, err := d.verify(ctx, VerifyRequest{Object: req.Object, Type: req.Type, Programs: names,
		KernelBTF: d.opts.KernelBTF, KernelConfig: d.opts.KernelConfig, Maps: over})
	if err != nil {
		return res, err
	}
	var pins []pinMeta
	if req.All {
		for _, n := range names {
			pins = append(pins, pinMeta{Kind: kindProg, Name: n, Path: path.Join(req.PinPath, n)})
		}
	} else {
		pins = append(pins, pinMeta{Kind: kindProg, Name: names[0], Path: req.PinPath})
	}
	pins = append(pins, namePins...)
	if req.PinMaps != "" {
		for _, ms := range spec.Maps {
			name := mapPinName(req.ObjectName, ms.Name)
			if m := meta.borrowed[ms.Name]; m != nil {
				// libbpf pins a reused map under the name the existing
				// map has (bpf_map__reuse_fd takes it over).
				name = strings.ReplaceAll(m.name, ".", "_")
			}
			pins = append(pins, pinMeta{Kind: kindMap, Name: ms.Name, Path: path.Join(req.PinMaps, name)})
		}
	}
	meta.Pins = pins

	d.mu.Lock()
	err = d.loadable(pins)
	var mem int64
	if err == nil {
		mem, err = d.reserve(spec, meta)
	}
	if err == nil {
		// The collection takes its own handles of the reused maps; one
		// unpinned meanwhile (and so maybe closed) fails this load
		// there or in the check after it.
		if err = checkBorrowed(meta.borrowed); err != nil {
			d.memUsed -= mem
		}
	}
	// The unit's ID is taken now: its maps' memory files go in its
	// directory. A load that fails leaves a gap in the IDs.
	d.nextUnit++
	id := d.nextUnit
	d.mu.Unlock()
	if err != nil {
		return res, err
	}
	coll, cerr := d.newCollection(spec, meta, verified, d.memDir(id))
	d.mu.Lock()
	defer d.mu.Unlock()
	if cerr == nil {
		// Another load may have taken a pin, or unpinned a reused map,
		// meanwhile.
		if cerr = d.loadable(pins); cerr == nil {
			cerr = checkBorrowed(meta.borrowed)
		}
		if cerr != nil {
			coll.Close()
		}
	}
	if cerr != nil {
		d.memUsed -= mem
		d.removeUnitDir(id)
		d.refillBorrowed(meta.borrowed)
		return res, cerr
	}
	u := d.register(id, spec, coll, req.Object, meta, mem)
	if d.opts.StateDir != "" {
		if err := d.persistNew(u); err != nil {
			d.closeUnit(u, true)
			d.unpinBorrowed(u, meta.Pins)
			d.refillBorrowed(meta.borrowed)
			return res, errorf(api.CodeInternal, "persisting the object: %w", err)
		}
	}
	// The slots the object gives the program arrays it reuses, now that
	// the unit is committed (a restore refills them from these logs).
	if err := d.recordReusedSlots(u, spec); err != nil {
		return res, errorf(api.CodeInternal, "persisting a reused program array's slots: %w", err)
	}
	if d.opts.StateDir != "" {
		// The pins pinmaps gave reused maps are their units'.
		for _, m := range meta.borrowed {
			if err := d.writeMeta(m.u); err != nil {
				return res, errorf(api.CodeInternal, "persisting a reused map's pin: %w", err)
			}
		}
	}
	for _, p := range u.progs {
		res.Programs = append(res.Programs, d.progInfo(p))
	}
	for _, m := range u.maps {
		if m.live {
			res.Maps = append(res.Maps, d.mapInfo(m))
		}
	}
	d.log.Info("loaded", "programs", names, "pin", req.PinPath)
	return res, nil
}

// verify runs Options.Verify, if set, on req and returns the verdicts the
// collection is created with (nil without a verifier: the load verifies
// in-process); a verdict whose digest is not req's rejects the load.
func (d *Daemon) verify(ctx context.Context, req VerifyRequest) (map[string]*bpfhost.VerifiedProgram, error) {
	if d.opts.Verify == nil {
		return nil, nil
	}
	start := time.Now()
	v, err := d.opts.Verify(ctx, req)
	took := time.Since(start)
	d.metrics.verifyNs.Add(uint64(took))
	d.metrics.verifies.Add(1)
	d.log.Info("verified", "programs", req.Programs, "took", took, "err", err)
	if err != nil {
		return nil, err
	}
	if v == nil || !bytes.Equal(v.Digest, RequestDigest(req)) {
		return nil, errorf(api.CodeRejected, "verifier gave a verdict on another request: the load is rejected")
	}
	return v.Programs, nil
}

// loadable checks that the daemon serves and the pins are free. d.mu is
// held.
func (d *Daemon) loadable(pins []pinMeta) error {
	if d.closed {
		return errorf(api.CodeInternal, "daemon is shutting down")
	}
	seen := map[string]bool{}
	for _, p := range pins {
		if _, ok := d.pins[p.Path]; ok || seen[p.Path] {
			return errorf(api.CodeExists, "pin %s: already exists", p.Path)
		}
		seen[p.Path] = true
	}
	return nil
}

func findProgram(spec *bpfhost.CollectionSpec, name string) *bpfhost.ProgramSpec {
	for _, ps := range spec.Programs {
		if ps.Name == name {
			return ps
		}
	}
	return nil
}

// loadUnit creates the collection of spec, with the verifier's verdicts
// (nil: verify in-process), and registers it with the pins of meta, which
// must be free. d.mu is held.
func (d *Daemon) loadUnit(id uint64, spec *bpfhost.CollectionSpec, object []byte, meta unitMeta, verified map[string]*bpfhost.VerifiedProgram) (*unit, error) {
	mem, err := d.reserve(spec, meta)
	if err != nil {
		return nil, err
	}
	coll, err := d.newCollection(spec, meta, verified, d.memDir(id))
	if err != nil {
		d.memUsed -= mem
		return nil, err
	}
	return d.register(id, spec, coll, object, meta, mem), nil
}

// reserve charges the maps of spec to the daemon's memory budget. d.mu is
// held.
func (d *Daemon) reserve(spec *bpfhost.CollectionSpec, meta unitMeta) (int64, error) {
	var mem int64
	for _, ms := range spec.Maps {
		if meta.borrowed[ms.Name] != nil {
			continue // a reused map is charged to its unit
		}
		// MapMemory saturates at math.MaxInt64 (sizes no map can have);
		// each map is checked alone first, so that the sum cannot wrap.
		m := bpfhost.MapMemory(ms, d.slots(meta))
		if m > d.opts.MapMemory {
			return 0, errorf(api.CodeTooBig, "map %q needs more than the daemon's %d bytes", ms.Name, d.opts.MapMemory)
		}
		mem += m
	}
	if d.memUsed+mem > d.opts.MapMemory {
		return 0, errorf(api.CodeTooBig, "maps need %d bytes, %d of the daemon's %d are free", mem, d.opts.MapMemory-d.memUsed, d.opts.MapMemory)
	}
	d.memUsed += mem
	return mem, nil
}

// newCollection creates the maps and programs of spec, taking the
// verifier's facts from verified (the isolated verifier's verdicts) where
// it has them and verifying the rest, with the arrays' values in files under
// memDir; it runs without d.mu, so that a long load does not stop other
// calls.
func (d *Daemon) newCollection(spec *bpfhost.CollectionSpec, meta unitMeta, verified map[string]*bpfhost.VerifiedProgram, memDir string) (*bpfhost.Collection, error) {
	spec, err := clientAccess(spec)
	if err != nil {
		return nil, err
	}
	coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{
		ProgramType: meta.Type, Engine: bpfhost.Engine(d.opts.Engine), Programs: meta.Programs,
		Slots: meta.Slots, Logger: d.log, MemoryLimit: -1, Verified: verified, MapMemoryDir: memDir, MapReplacements: replacements(meta.borrowed),
		KernelBTF: d.opts.KernelBTF, KernelConfig: d.opts.KernelConfig,
	})
	if err != nil {
		return nil, &Error{Code: CodeOf(err), Err: err}
	}
	return coll, nil
}

// register gives a new collection's objects IDs and pins; mem is what
// reserve charged for it. d.mu is held.
func (d *Daemon) register(id uint64, spec *bpfhost.CollectionSpec, coll *bpfhost.Collection, object []byte, meta unitMeta, mem int64) *unit {
	u := &unit{id: id, coll: coll, object: object, meta: meta, mem: mem, borrowed: meta.borrowed}
	u.meta.borrowed = nil
	d.units[u.id] = u
	byName := map[string]*mapObj{}
	typed := objectMapTypes(object)
	// IDs in libbpf's order of creation, as Linux gives them.
	for _, name := range libbpfMapOrder(object, spec) {
		ms := spec.Map(name)
		m := coll.Maps[ms.Name]
		if m == nil || u.borrowed[ms.Name] != nil {
			continue
		}
		d.nextID++
		mo := &mapObj{id: d.nextID, m: m, u: u, mem: bpfhost.MapMemory(ms, m.Slots()), name: libbpfMapName(meta.ObjectName, ms.Name), flags: m.Flags(), spec: ms}
		d.noteEntrySize(m)
		if ms.IsGlobalData() {
			mo.flags |= flagMmapable
		}
		if mt, ok := typed[ms.Name]; ok && formattable(m.Type()) {
			mo.types = &mt
		}
		byName[ms.Name] = mo
		u.maps = append(u.maps, mo)
	}
	progPins := map[string][]string{}
	for _, p := range meta.Pins {
		if p.Kind == kindProg {
			progPins[p.Name] = append(progPins[p.Name], p.Path)
		}
	}
	linked := map[string]bool{}
	for _, l := range meta.Links {
		linked[l.Prog] = true
	}
	for _, name := range meta.Programs {
		bp := coll.Programs[name]
		if bp == nil || (len(progPins[name]) == 0 && !linked[name] && !meta.held[kindProg+"/"+name]) {
			continue
		}
		p := d.addProg(u, name, findProgram(spec, name))
		for _, pin := range progPins[name] {
			p.pins = append(p.pins, pin)
			d.pins[pin] = p
		}
	}
	for _, p := range meta.Pins {
		mo := byName[p.Name]
		if mo == nil {
			mo = u.borrowed[p.Name] // pinmaps pins a reused map too, as libbpf
		}
		if p.Kind == kindMap && mo != nil {
			mo.pins = append(mo.pins, p.Path)
			d.pins[p.Path] = mo
		}
	}
	if err := d.scanRefs(u); err != nil {
		d.log.Error("reading the objects a map holds", "err", err)
	}
	for _, mo := range u.maps {
		if len(mo.pins) > 0 || len(u.progs) > 0 || meta.held[kindMap+"/"+mo.m.Name()] {
			mo.live = true
			d.maps[mo.id] = mo
		}
	}
	return u
}

// addProg gives program name of u an ID. d.mu is held.
func (d *Daemon) addProg(u *unit, name string, ps *bpfhost.ProgramSpec) *prog {
	d.nextID++
	p := &prog{id: d.nextID, p: u.coll.Programs[name], u: u, spec: ps, tag: Tag(ps), gpl: bpfhost.GPLCompatible(ps.License), loadedAt: u.meta.LoadedAt, uid: u.meta.UID, live: true}
	// In the order of their first use in the program, as Linux's
	// verifier records a program's maps (then the bound .rodata).
	refs := append([]bpfhost.Reference(nil), ps.References...)
	sort.SliceStable(refs, func(i, j int) bool { return refs[i].Slot < refs[j].Slot })
	seen := map[string]bool{}
	for _, ref := range refs {
		for _, mo := range u.maps {
			if mo.m.Name() == ref.Name && !seen[ref.Name] {
				seen[ref.Name] = true
				p.mapIDs = append(p.mapIDs, mo.id)
			}
		}
		if mo := u.borrowed[ref.Name]; mo != nil && !seen[ref.Name] {
			seen[ref.Name] = true
			p.mapIDs = append(p.mapIDs, mo.id)
		}
	}
	// libbpf binds the object's .rodata map to every program it loads
	// (BPF_PROG_BIND_MAP, for bpftool's metadata), so Linux lists it among
	// the maps of each, also of one that does not read it.
	if mo := rodataOf(u); mo != nil && !seen[".rodata"] {
		p.mapIDs = append(p.mapIDs, mo.id)
	}
	u.progs = append(u.progs, p)
	d.progs[p.id] = p
	return p
}

// rodataOf is the map of u's .rodata section, its own or reused, or nil.
func rodataOf(u *unit) *mapObj {
	if mo := u.borrowed[".rodata"]; mo != nil {
		return mo
	}
	for _, mo := range u.maps {
		if mo.m.Name() == ".rodata" {
			return mo
		}
	}
	return nil
}

// slots is the slot count a unit is created with, for memory accounting.
func (d *Daemon) slots(meta unitMeta) int {
	if meta.Slots > 0 {
		return meta.Slots
	}
	return bpfhost.DefaultSlots()
}

// closeUnit unregisters a unit and closes its collection; forget also
// removes its state directory. d.mu is held.
func (d *Daemon) closeUnit(u *unit, forget bool) error {
	lerr := d.closeLinks(u)
	for _, p := range u.progs {
		delete(d.progs, p.id)
		for _, pin := range p.pins {
			delete(d.pins, pin)
		}
	}
	for _, m := range u.maps {
		delete(d.maps, m.id)
		for _, pin := range m.pins {
			delete(d.pins, pin)
		}
	}
	delete(d.units, u.id)
	d.memUsed -= u.mem
	u.closing, u.forget = true, forget
	return errors.Join(lerr, d.settle(u))
}

// settle finishes what a closed unit can: once no call uses it, it ends
// its holds on other units (nothing of it runs any more), and once no unit
// holds it either, its collection is closed. d.mu is held.
func (d *Daemon) settle(u *unit) error {
	if !u.closing || u.users > 0 {
		return nil // the last user settles it
	}
	deps := u.deps
	u.deps = nil
	var err error
	for t := range deps {
		t.heldBy--
		err = errors.Join(err, d.settle(t))
	}
	if u.heldBy > 0 || u.coll == nil {
		return err // the last holder settles it
	}
	return errors.Join(err, d.finish(u))
}

// hold marks u used by a call until release. d.mu is held.
func (d *Daemon) hold(u *unit) { u.users++ }

// release ends a use of u, closing it if it was closed meanwhile.
func (d *Daemon) release(u *unit) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.unuse(u)
}

// unuse ends a use of u, closing it if it was closed meanwhile. d.mu is
// held.
func (d *Daemon) unuse(u *unit) {
	u.users--
	if err := d.settle(u); err != nil {
		d.log.Error("closing an object", "err", err)
	}
}

// finish closes the unit's maps' logs and collection and removes its
// state if it is forgotten. d.mu is held.
func (d *Daemon) finish(u *unit) error {
	var err error
	for _, m := range u.maps {
		if m.wal != nil {
			err = errors.Join(err, m.wal.close())
		}
		if m.refs != nil && m.refs.wal != nil {
			err = errors.Join(err, m.refs.wal.close())
		}
	}
	err = errors.Join(err, u.coll.Close())
	u.coll = nil
	if u.forget && u.dir != "" {
		if rerr := os.RemoveAll(u.dir); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	return err
}
