package bpfhost

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"

	"github.com/bpfhost/bpfhost/helpers"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/object"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/verifier"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
)

// CollectionSpec describes the programs and maps of an object before they
// are created: plain data to inspect, copy and change (SetConstant) first.
type CollectionSpec = object.Spec

// ProgramSpec describes one program of a CollectionSpec.
type ProgramSpec = object.ProgramSpec

// MapSpec describes one map of a CollectionSpec.
type MapSpec = object.MapSpec

// LoadCollectionSpec parses an ELF object produced by clang -target bpf.
func LoadCollectionSpec(path string) (*CollectionSpec, error) { return object.Load(path) }

// LoadCollectionSpecFromReader parses an ELF object from r.
func LoadCollectionSpecFromReader(r io.ReaderAt) (*CollectionSpec, error) {
	return object.LoadReader(r)
}

// CollectionSpecFromCilium converts a cilium/ebpf CollectionSpec (what bpf2go
// generates loaders for) into bpfhost's, including variables already set.
func CollectionSpecFromCilium(cs *ebpf.CollectionSpec) (*CollectionSpec, error) {
	return object.FromCollectionSpec(cs)
}

// CollectionOptions configure NewCollection.
type CollectionOptions struct {
	// ProgramTypes gives the type of programs by program name ("xdp",
	// "sched_cls", "cgroup_sock_addr/connect4", or a libbpf section name),
	// whatever their section says. Names the object does not have are an
	// error.
	ProgramTypes map[string]string
	// ProgramType is the type of every program ProgramTypes does not name,
	// whatever its section says, as tc and ip load a whole object as one
	// type. Empty means: the type the section name gives (see ProgramType,
	// the function, for the rules).
	ProgramType string

	// Engine is EngineInterp, EngineJIT or EngineDefault: the JIT where it is
	// available (amd64), the interpreter elsewhere. A program the JIT cannot
	// compile falls back to the interpreter; the reason is logged and
	// Program.Fallback reports it.
	Engine Engine
	// Unverified loads programs without running the verifier. They then
	// run in checked mode (see Checked): in the interpreter when Engine is
	// EngineDefault or EngineInterp, in the JIT's checked code when Engine
	// is EngineJIT (docs/decisions/0010-checked-jit.md).
	Unverified bool
	// Checked runs verified programs in checked mode too, on either
	// engine: every load, store and atomic outside the fixed stack frame,
	// and every helper's memory argument, is validated against the memory
	// the run may reach, so that a verifier bug stops the run with an
	// error instead of touching host memory. Unverified implies it.
	Checked bool
	// Logger receives warnings such as JIT fallbacks; nil means slog.Default().
	Logger *slog.Logger
	// Slots is the number of execution slots, the "CPUs" that per-CPU maps
	// hold a value for and bpf_get_smp_processor_id reports; 0 means
	// runtime.GOMAXPROCS(0), capped at maps.MaxSlots. More than
	// maps.MaxSlots is an error.
	Slots int
	// Printk receives each line programs print with bpf_trace_printk; nil
	// keeps them in the collection (see Collection.Printk).
	Printk func(line string)
	// MemoryLimit is the most bytes the collection's maps may preallocate
	// together (keys, values, bookkeeping: maps.Memory of each). Each map
	// is charged before any is created, and the map that would go over
	// fails the collection with an error that wraps ErrMemoryLimit. 0
	// means DefaultMemoryLimit; a negative value removes the collection
	// budget (each map is still limited to maps.MaxMemory).
	MemoryLimit int64
	// Programs, if not nil, names the programs to load: only these and the
	// programs their program arrays can reach (statically initialised
	// slots, transitively) are verified and loaded, so that an unsafe
	// program elsewhere in the object does not stop them. Every map is
	// created. Nil loads every program whose autoload is on: not those
	// of a section whose name begins with "?" (ProgramSpec.NoAutoload),
	// as libbpf. Naming such a program here loads it, as
	// bpf_program__set_autoload(prog, true) does; being reached through a
	// program array does not, and a slot naming a program not loaded
	// fails the collection, as in libbpf
	// (docs/decisions/0042-autoload.md).
	Programs []string
	// VerifierLimits bound the verifier's work on each program: the
	// instructions it processes and the memory of its states; Timeout
	// bounds NewCollection's verification of all the collection's
	// programs together, from the call's start.
	// The zero value means the verifier's defaults (verifier.Limits).
	VerifierLimits verifier.Limits
	// PinPath is the directory of the process's pin namespace under which
	// maps whose MapSpec.Pinning is PinByName are pinned by name: a map
	// pinned there already is used instead of a new one (it must match
	// the spec, else the error wraps ErrMapIncompatible), and a new one
	// is pinned there when the collection is complete (pin.go). Empty
	// pins nothing.
	PinPath string
	// KernelBTF names the file of kernel BTF (raw, as
	// /sys/kernel/btf/vmlinux, or an ELF vmlinux) that types the arguments
	// of BTF-typed programs (fentry, fexit, fmod_ret, tp_btf, lsm, iter):
	// the kernel structs their pointer arguments point to, which they may
	// read through. Empty means the running kernel's, on Linux; elsewhere,
	// and on kernels without BTF, loading such a program fails with an
	// error wrapping ErrNoKernelBTF unless a file is named. The file is
	// parsed once per process.
	KernelBTF string
	// KernelConfig names a kernel configuration file in Linux's .config
	// format (see ParseKernelConfig) whose values fill the program's
	// extern __kconfig variables (CONFIG_*, LINUX_KERNEL_VERSION). Empty
	// means the running kernel's on Linux (as libbpf reads them), none
	// elsewhere; variables without a value read zero. The values are
	// constants the verifier knows, as Linux knows a frozen read-only
	// map's (docs/decisions/0028-kconfig.md).
	KernelConfig string
	// Verified, if not nil, holds verdicts reached elsewhere
	// (VerifyCollection, in the daemon's isolated verifier process) by
	// program name: a program named here is not verified again but takes
	// its facts from the entry, which must match the program, its type,
	// the object's maps and VerifierLimits' instruction and memory limits
	// (ProgramDigest), else NewCollection fails with an error that wraps
	// ErrVerifiedMismatch. Programs it does not name are verified as
	// usual. Ignored when Unverified is set.
	Verified map[string]*VerifiedProgram
	// MapMemoryDir, if not empty, is a directory (created 0700 if
	// missing) in which arrays, hash maps (plain, per-CPU, LRU) and LPM
	// tries keep their memory (maps.InFile): in the map memory file
	// <MapMemoryDir>/<map name>, mapped shared, so that every store, by
	// programs too, is in the file at once and survives the process being
	// killed; hash maps and tries rebuild their index from the file. A
	// file that is there already with the same layout is reused: its
	// contents are the map's, and global data is not initialised from the
	// object again. Other map types, and all maps on systems other than
	// Linux, use memory as without it (Map.MemoryFile is then empty). The layout is documented
	// in docs/map-memory.md; maps.OpenMemory maps a file read-only.
	// Collections over one directory at the same time share their
	// arrays' values, as if pinned; give each its own directory.
	MapMemoryDir string
	// MapReplacements, if not nil, gives maps to use instead of creating
	// the object's maps of these names, as cilium/ebpf's does: each must
	// match the MapSpec (type, key and value size, entries, flags, and the
	// execution slots), else the error wraps ErrMapIncompatible. The
	// collection holds the map until it closes, as a pin would (the
	// replacement handle may be closed meanwhile); it is neither pinned
	// nor initialised from the object, except that a program array takes
	// the spec's static slots, as libbpf fills a reused one. A map of
	// maps must match in its inner map template too, any map in where
	// its value holds a bpf_spin_lock or bpf_timer, and a program array
	// keeps one program type (ErrInvalid for a program of another); maps
	// with timers cannot be shared this way (ErrNotSupported). A name the
	// object does not have is an error.
	MapReplacements map[string]*Map
}

// DefaultMemoryLimit is the map memory budget of a collection whose options
// set none: 1 GiB, the most one map may use.
const DefaultMemoryLimit = 1 << 30

// ErrMemoryLimit is wrapped by the error of a collection whose maps need more
// memory than its budget (CollectionOptions.MemoryLimit).
var ErrMemoryLimit = fmt.Errorf("collection memory limit exceeded: %w", maps.ErrNoMemory)

// Collection is a set of loaded programs and the maps they share.
type Collection struct {
	Programs map[string]*Program
	Maps     map[string]*Map
	// Variables are the object's global variables, by name, in the data
	// section maps of Maps (variable.go).
	Variables map[string]*Variable

	slots      *slotPool
	engine     vm.Engine
	logger     *slog.Logger
	unverified bool
	checked    bool // compile in vm.Checked mode (unverified implies it)
	limits     verifier.Limits
	regions    []vm.Region // map memory programs may reach, for checked runs
	helpers    vm.Helpers
	kfuncs     vm.Helpers
	host       *host
	printk     printkBuffer
	types      CollectionOptions // only the program type choices
	verified   map[string]*VerifiedProgram
	rawLimits  verifier.Limits // as the options gave them, for ProgramDigest
	closed     atomic.Bool
	// arrayed is set once one of its programs is stored in a program
	// array: runs of other collections may tail-call into it, so Close
	// waits for them (quiesceOthers).
	arrayed atomic.Bool
}

// NewCollection creates the maps of spec, verifies, links and compiles its
// programs whose autoload is on (or those CollectionOptions.Programs
// selects; a program it does not load is absent from Programs), and fills
// statically initialised program arrays and maps of maps. A program the
// verifier rejects fails the whole collection with a *VerifierError.
//
// Programs the verifier accepts run trusted unless opts.Checked is set;
// checked and unverified programs have every memory access validated, so a
// faulty program stops with an error instead of harming the host.
func NewCollection(spec *CollectionSpec, opts *CollectionOptions) (*Collection, error) {
	if spec == nil {
		return nil, fmt.Errorf("%w: nil CollectionSpec", ErrInvalid)
	}
	if opts == nil {
		opts = &CollectionOptions{}
	}
	if err := checkTypeOptions(spec, opts); err != nil {
		return nil, fmt.Errorf("program types: %w", err)
	}
	spec, err := withKernelConfig(spec, opts.KernelConfig)
	if err != nil {
		return nil, err
	}
	engine, err := collectionEngine(opts)
	if err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	slots := opts.Slots
	if slots > maps.MaxSlots {
		return nil, fmt.Errorf("%d execution slots, want at most %d", slots, maps.MaxSlots)
	}
	if slots <= 0 {
		slots = DefaultSlots()
	}
	c := &Collection{Programs: map[string]*Program{}, Maps: map[string]*Map{}, slots: newSlotPool(slots), engine: engine, logger: logger, unverified: opts.Unverified,
		checked: opts.Checked || opts.Unverified, limits: collectionLimits(opts.VerifierLimits)}
	c.host = &host{printk: opts.Printk, checked: c.checked}
	if opts.Printk == nil {
		c.host.printk = c.printk.add
	}
	c.helpers = helpers.New(c.host)
	c.kfuncs = collectionKfuncs()
	c.types = CollectionOptions{ProgramTypes: opts.ProgramTypes, ProgramType: opts.ProgramType, KernelBTF: opts.KernelBTF}
	c.verified, c.rawLimits = opts.Verified, opts.VerifierLimits
	ok := false
	defer func() {
		if !ok {
			c.Close()
		}
	}()

	if err := checkReplacements(spec, opts.MapReplacements); err != nil {
		return nil, err
	}
	if err := chargeMaps(notReplaced(spec.Maps, opts.MapReplacements), slots, opts.MemoryLimit); err != nil {
		return nil, err
	}
	byIndex := make([]*Map, len(spec.Maps))
	created := map[string]*Map{} // new maps to pin, by pin path
	for i, ms := range spec.Maps {
		var at string
		m, err := replacement(ms, opts.MapReplacements, slots)
		if err == nil && m == nil {
			m, at, err = pinnedFor(ms, opts.PinPath, slots)
		}
		if err == nil && m == nil {
			m, err = newMap(ms, slots, opts.MapMemoryDir)
			if err == nil && at != "" {
				created[at] = m
			}
		}
		if err != nil {
			return nil, err
		}
		if isFrozenData(ms) {
			// The verifier reads its bytes as constants: user space
			// may not change them either, as libbpf freezes it, and a
			// pinned one must hold them (frozendata.go).
			if err := freezeData(m, ms); err != nil {
				return nil, err
			}
		}
		byIndex[i] = m
		c.Maps[ms.Name] = m
		c.regions = append(c.regions, m.regions()...)
	}
	c.Variables = newVariables(spec, c.Maps)
	selected, err := selectPrograms(spec, opts.Programs)
	if err != nil {
		return nil, err
	}
	for _, ps := range selected {
		p, err := c.newProgram(spec, ps, byIndex)
		if err != nil {
			return nil, err
		}
		c.Programs[ps.Name] = p
	}
	// Static contents of program arrays and maps of maps, now that every
	// program and map exists. A replacement is not initialised from the
	// object, except a program array, as libbpf fills a reused one.
	for i, ms := range spec.Maps {
		if _, ok := opts.MapReplacements[ms.Name]; ok && maps.Type(ms.Type) != maps.ProgramArray {
			continue
		}
		for _, kv := range ms.Contents {
			var v any
			if maps.Type(ms.Type) == maps.ProgramArray {
				p, found := c.Programs[kv.Value]
				if ps := spec.Program(kv.Value); !found && ps != nil && ps.NoAutoload && (opts.Programs == nil || referencesMap(selected, i)) {
					return nil, unloadedSlotError(ms, kv.Key, ps)
				}
				if !found && opts.Programs != nil && spec.Program(kv.Value) != nil {
					continue // not reachable from the selected programs
				}
				if !found {
					return nil, fmt.Errorf("map %q: slot %d names program %q, which is not in the object", ms.Name, kv.Key, kv.Value)
				}
				v = p
			} else {
				m, found := c.Maps[kv.Value]
				if !found {
					return nil, fmt.Errorf("map %q: slot %d names map %q, which is not in the object", ms.Name, kv.Key, kv.Value)
				}
				v = m
			}
			if err := byIndex[i].Update(kv.Key, v, UpdateAny); err != nil {
				return nil, err
			}
		}
	}
	if err := pinNew(created); err != nil {
		return nil, err
	}
	ok = true
	return c, nil
}

// chargeMaps charges each map's preallocated memory to the collection's
// budget, before any map exists, and names the first map that goes over.
func chargeMaps(specs []*MapSpec, slots int, limit int64) error {
	if limit < 0 {
		return nil
	}
	budget := uint64(limit)
	if limit == 0 {
		budget = DefaultMemoryLimit
	}
	var total uint64
	for _, ms := range specs {
		need := maps.Memory(toMapsSpec(ms), slots)
		if need > budget-total { // total <= budget holds here
			return fmt.Errorf("map %q needs %d bytes; with the %d bytes of the maps before it that is over the budget of %d bytes: %w",
				ms.Name, need, total, budget, ErrMemoryLimit)
		}
		total += need
	}
	return nil
}

// newMap creates one map, with its initial data for global data sections.
func newMap(ms *MapSpec, slots int, memDir string) (*Map, error) {
	spec := toMapsSpec(ms)
	mm, memFile, reused, err := newMapMemory(spec, slots, memDir)
	if err != nil {
		return nil, err
	}
	m := &Map{name: ms.Name, m: mm, spec: mm.Spec(), share: &mapShare{refs: 1}, memFile: memFile}
	registerMap(m)
	// A reused memory file keeps the map's state, except in .kconfig,
	// whose bytes are the kernel configuration's now; a .rodata section's
	// must be the spec's already (freezeData checks).
	if ms.Data != nil && (!reused || isKconfig(ms)) {
		if err := mm.Update(make([]byte, 4), ms.Data, maps.UpdateAny); err != nil {
			m.close()
			return nil, fmt.Errorf("map %q: initial data: %w", ms.Name, err)
		}
	}
	return m, nil
}

func (m *Map) close() error { return m.release() }

// newProgram links one program against the collection's maps, rewrites its
// context accesses to the host layout and compiles it.
func (c *Collection) newProgram(spec *CollectionSpec, ps *ProgramSpec, byIndex []*Map) (*Program, error) {
	info, _, err := ProgramType(ps, &c.types)
	if err != nil {
		return nil, err
	}
	var ktypes platform.KernelTypes
	if !c.unverified {
		if ps, info, ktypes, err = btfTyped(ps, info, c.types.KernelBTF); err != nil {
			return nil, err
		}
	}
	// Verify first: the verifier reads map references in their symbolic
	// form (map index), before they become addresses.
	mode := vm.Trusted
	if c.checked {
		mode = vm.Checked
	}
	// The facts the engines and the rewrite use come from the verifier
	// (decision 0016): from its proof, or, for unverified programs, from
	// its classification of the context accesses.
	var facts *verifier.Result
	if v := c.verified[ps.Name]; !c.unverified && v != nil {
		if facts, err = verifiedFacts(v, spec, ps, info, c.rawLimits); err != nil {
			return nil, err
		}
	} else if !c.unverified {
		vopts := VerifierOptions(spec, ps, info)
		vopts.KernelTypes = ktypes
		vopts.Limits = c.limits
		if facts, err = verifier.Verify(ps.Instructions, vopts); err != nil {
			return nil, err
		}
	} else if facts, err = verifier.Classify(ps.Instructions, linux.ABI()); err != nil {
		return nil, fmt.Errorf("program %q: %w", ps.Name, err)
	}
	insns := append([]isa.Instruction(nil), ps.Instructions...)
	for _, ref := range ps.References {
		if err := patchReference(insns, ref, byIndex); err != nil {
			return nil, fmt.Errorf("program %q: instruction %d: %w", ps.Name, ref.Slot, err)
		}
		if ref.Kind == object.RefMap {
			if err := byIndex[ref.Map].ownBy(ps.Name, info); err != nil {
				return nil, err
			}
		}
	}
	if info.Context != nil && info.Context.Host != nil {
		var err error
		if insns, err = platform.Rewrite(insns, info.Context, facts.ContextAccesses); err != nil {
			return nil, fmt.Errorf("program %q: %w", ps.Name, err)
		}
	}
	vp := &vm.Program{Instructions: insns, Helpers: c.helpers, Kfuncs: c.kfuncs, MapArgs: mapArgs(facts.MapArgs, byIndex), ZeroEntryFrame: facts.ZeroEntryFrame, ZeroCallFrames: facts.ZeroCallFrames,
		ProbeLoads: facts.ProbeLoads}
	copts := vm.CompileOptions{Mode: mode}
	exe, err := c.engine.Compile(vp, copts)
	engineName, fallback := Engine(c.engine.Name()), ""
	if err != nil && Engine(c.engine.Name()) != EngineInterp && errors.Is(err, vm.ErrUnsupported) {
		fallback = err.Error()
		c.logger.Warn("JIT cannot compile program; using the interpreter", "program", ps.Name, "reason", fallback)
		exe, err = interp.New().Compile(vp, copts)
		engineName = EngineInterp
	}
	if err != nil {
		var ce *vm.CompileError
		if errors.As(err, &ce) && errors.Is(err, vm.ErrUnknownHelper) {
			id := platform.HelperID(insns[ce.PC].Imm)
			return nil, fmt.Errorf("program %q: instruction %d (%s): helper %s is not supported", ps.Name, ce.PC, ps.Line(ce.PC), linux.ABI().HelperName(id))
		}
		return nil, fmt.Errorf("program %q: %w", ps.Name, err)
	}
	p := &Program{name: ps.Name, section: ps.Section, info: info, spec: ps, insns: insns, exe: exe, coll: c, engine: engineName, fallback: fallback,
		tailCalls: facts.TailCalls, kernelTypes: ktypes, ctxEnd: contextEnd(ps.Instructions, facts.ContextAccesses)}
	p.id = registry.nextID.Add(1)
	p.tail.Store(&exeBox{exe})
	registry.programs.Store(p.id, p)
	return p, nil
}

// Checked reports whether the program runs in checked mode: whether every
// memory access it makes is validated against the memory its run may
// reach (CollectionOptions.Checked and Unverified).
func (p *Program) Checked() bool { return p.coll.checked }

// collectionLimits turns the verifier's per-program Timeout into a
// deadline for all of a collection's programs, from now.
func collectionLimits(l verifier.Limits) verifier.Limits {
	t := l.Timeout
	if t == 0 {
		t = verifier.DefaultTimeout
	}
	if t > 0 {
		if d := time.Now().Add(t); l.Deadline.IsZero() || d.Before(l.Deadline) {
			l.Deadline = d
		}
	}
	return l
}

// VerifierError is a program the verifier rejected: each finding names the
// instruction, its source line and the property that failed.
type VerifierError = verifier.VerifierError

// VerifierOptions returns the options that verify program ps of spec as a
// program of the given type, as NewCollection does. The bytes of .rodata*
// and .kconfig sections are constants to the verifier: a runtime other than
// NewCollection must freeze those maps with exactly these bytes
// (docs/decisions/0028-kconfig.md).
func VerifierOptions(spec *CollectionSpec, ps *ProgramSpec, info *platform.ProgramTypeInfo) verifier.Options {
	infos := make([]verifier.MapInfo, len(spec.Maps))
	for i, ms := range spec.Maps {
		infos[i] = mapInfo(ms)
	}
	sec, _, matched := linux.ABI().MatchSection(ps.Section)
	return verifier.Options{
		Name: ps.Name, Type: info, ABI: linux.ABI(), Maps: infos, NotGPL: !linux.GPLCompatible(ps.License),
		Sleepable: matched && sec.Flags&platform.SectionSleepable != 0,
		Lines: func(pc int) string {
			l := ps.Line(pc)
			if !l.Known() {
				return ""
			}
			return fmt.Sprintf("%s:%d", filepath.Base(l.File), l.Line)
		},
		Kfuncs: func(pc int) string {
			r, _ := kfuncRef(ps, pc)
			return r.Name
		},
		WeakKfunc: func(pc int) bool {
			r, _ := kfuncRef(ps, pc)
			return r.Weak
		},
	}
}

// kfuncRef returns the kfunc reference of the call at pc.
func kfuncRef(ps *ProgramSpec, pc int) (object.Reference, bool) {
	for _, r := range ps.References {
		if r.Kind == object.RefKfunc && r.Slot == pc {
			return r, true
		}
	}
	return object.Reference{}, false
}

// missingKfunc is the number a call of a __weak kfunc that bpfhost lacks is
// bound to: the verifier proved it unreachable, and an unverified run that
// reaches it stops (collectionKfuncs).
const missingKfunc = 0

// errMissingKfunc stops an unverified run at a call of a missing __weak
// kfunc.
var errMissingKfunc = errors.New("call of a __weak kernel function that bpfhost does not have")

// collectionKfuncs is the kfunc table of a collection's programs: the
// implemented kfuncs by their numbers, and missingKfunc.
func collectionKfuncs() vm.Helpers {
	k := helpers.Kfuncs()
	k[missingKfunc] = func(*vm.RunContext, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
		return 0, errMissingKfunc
	}
	return k
}

// patchReference turns an lddw that names a map or global data into the
// 64-bit immediate the program uses at run time: the map's handle address,
// or the address of a byte in an array map's value; and binds a kfunc call
// to the number of the kfunc it names (platform.KfuncID).
func patchReference(insns []isa.Instruction, ref object.Reference, byIndex []*Map) error {
	switch ref.Kind {
	case object.RefMap, object.RefMapValue:
	case object.RefKfunc:
		if ref.Slot < 0 || ref.Slot >= len(insns) || insns[ref.Slot].Opcode != isa.OpCall || insns[ref.Slot].Src != isa.CallKfunc {
			return fmt.Errorf("reference to kernel function %q is not a kfunc call", ref.Name)
		}
		k, ok := linux.ABI().KfuncByName(ref.Name)
		switch {
		case ok:
			insns[ref.Slot].Imm = int32(k.ID)
		case ref.Weak:
			insns[ref.Slot].Imm = missingKfunc
		default:
			return fmt.Errorf("extern (func ksym) '%s': not found in kernel or module BTFs: bpfhost has no kernel function %s", ref.Name, ref.Name)
		}
		return nil
	default:
		return fmt.Errorf("kernel symbol %q is not available in bpfhost", ref.Name)
	}
	if ref.Map < 0 || ref.Map >= len(byIndex) {
		return fmt.Errorf("map index %d out of range", ref.Map)
	}
	if ref.Slot+1 >= len(insns) || !insns[ref.Slot].IsLoadImm64() {
		return fmt.Errorf("reference to map %q is not an lddw", ref.Name)
	}
	m := byIndex[ref.Map]
	var v uint64
	if ref.Kind == object.RefMap {
		v = m.handle.ptr()
	} else {
		arr, ok := m.m.(*maps.ArrayMap)
		if !ok {
			return fmt.Errorf("map %q: value address of a %s (only arrays have fixed value addresses)", m.name, m.spec.Type)
		}
		if uint64(ref.Offset) >= uint64(m.spec.ValueSize) {
			return fmt.Errorf("map %q: value offset %d beyond the value size %d", m.name, ref.Offset, m.spec.ValueSize)
		}
		v = uint64(uintptr(arr.ValuePtr(0, 0))) + uint64(ref.Offset)
	}
	pair := isa.LoadImm64(insns[ref.Slot].Dst, isa.PseudoImm64, v)
	insns[ref.Slot], insns[ref.Slot+1] = pair[0], pair[1]
	return nil
}

// Printk returns the lines programs printed since the last call, when no
// CollectionOptions.Printk was given.
func (c *Collection) Printk() []string { return c.printk.take() }

// Close releases the collection's maps and programs.
func (c *Collection) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	var errs []error
	names := make([]string, 0, len(c.Programs))
	for n := range c.Programs {
		names = append(names, n)
	}
	sort.Strings(names)
	// The runs in other goroutines end first; later ones fail with
	// ErrClosed.
	c.slots.exclusive(true, func() {
		for _, n := range names {
			c.Programs[n].unreach()
		}
		if c.arrayed.Load() {
			// Runs of other collections that tail-called into these
			// programs end before their code and maps go.
			quiesceOthers(c.slots)
		}
		for _, n := range names {
			errs = append(errs, c.Programs[n].release())
		}
		for _, m := range c.Maps {
			errs = append(errs, m.close())
		}
	})
	return errors.Join(errs...)
}

// regions returns the memory of the map that programs may access directly:
// values, and ring buffer records.
func (m *Map) regions() []vm.Region {
	writable := m.spec.Flags&maps.FlagRdOnlyProg == 0
	var out []vm.Region
	if em, ok := m.m.(interface{ ValueMemory() []byte }); ok {
		if mem := em.ValueMemory(); len(mem) > 0 {
			out = append(out, vm.RegionOf("map "+m.name, mem, writable))
		}
	}
	if rb, ok := m.m.(interface{ DataMemory() []byte }); ok {
		if mem := rb.DataMemory(); len(mem) > 0 {
			out = append(out, vm.RegionOf("ring buffer "+m.name, mem, true))
		}
	}
	return out
}

// mapArgs turns the verifier's map argument of each helper call (an index
// into the object's maps, -1 if unknown) into the address the program's
// lddw loads for that map (vm.Program.MapArgs).
func mapArgs(idx []int, byIndex []*Map) []uint64 {
	out := make([]uint64, len(idx))
	for pc, i := range idx {
		if i >= 0 && i < len(byIndex) && byIndex[i] != nil {
			out[pc] = byIndex[i].handle.ptr()
		}
	}
	return out
}
