package object

import (
	"slices"
	"strconv"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/cilium/ebpf/btf"
)

// Spec is everything an object file declares: its programs, its maps
// (including one single-entry array per global data section) and its global
// variables. It is plain data: nothing is created until the runtime reads it,
// and it can be changed (SetConstant) or copied (Copy) before that.
type Spec struct {
	// Programs are sorted by name. Functions only reachable through calls
	// (those in .text) are not programs of their own: they are linked into
	// every program that calls them.
	Programs []*ProgramSpec
	// Maps are sorted by name. The imm of a map-referencing lddw is an index
	// into this slice (see the package documentation).
	Maps []*MapSpec
	// Variables are the object's global (non-static) variables, sorted by
	// name.
	Variables []*VariableSpec
	// License is the contents of the license section, without trailing NULs.
	License string

	// types is the object's BTF, which pending CO-RE relocations refer to.
	types *btf.Spec
}

// Program returns the program with the given name, or nil.
func (s *Spec) Program(name string) *ProgramSpec {
	for _, p := range s.Programs {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Map returns the map with the given name, or nil.
func (s *Spec) Map(name string) *MapSpec {
	if i := s.MapIndex(name); i >= 0 {
		return s.Maps[i]
	}
	return nil
}

// MapIndex returns the index in Maps of the map with the given name, which
// is what lddw instructions that reference it hold, or -1.
func (s *Spec) MapIndex(name string) int {
	for i, m := range s.Maps {
		if m.Name == name {
			return i
		}
	}
	return -1
}

// Variable returns the global variable with the given name, or nil.
func (s *Spec) Variable(name string) *VariableSpec {
	for _, v := range s.Variables {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// Copy returns a deep copy of the spec: changing the copy (instructions, map
// data, variables) leaves the original as it was.
func (s *Spec) Copy() *Spec {
	if s == nil {
		return nil
	}
	cpy := &Spec{License: s.License, types: s.types}
	for _, p := range s.Programs {
		cpy.Programs = append(cpy.Programs, p.Copy())
	}
	for _, m := range s.Maps {
		cpy.Maps = append(cpy.Maps, m.Copy())
	}
	for _, v := range s.Variables {
		vv := *v
		cpy.Variables = append(cpy.Variables, &vv)
	}
	return cpy
}

// ProgramSpec is one program: an entry function and every function it calls,
// linked into one instruction stream.
type ProgramSpec struct {
	// Name is the entry function's symbol name.
	Name string
	// Section is the ELF section the program was defined in ("xdp",
	// "socket", "tp/sched/sched_switch"); the platform package maps it to a
	// program type. libbpf's "?" prefix is not part of it: it sets
	// NoAutoload instead (SEC("?xdp") is section "xdp").
	Section string
	// NoAutoload is set for a program of a section whose name begins with
	// "?" (SEC("?tc")): as libbpf does not load such a program until
	// bpf_program__set_autoload(prog, true), NewCollection neither verifies
	// nor loads it unless CollectionOptions.Programs names it or the
	// spec's NoAutoload is cleared first. The zero value loads the
	// program, so specs built by hand need not set it.
	NoAutoload bool
	// Hint is what libbpf's section naming rules say about the program, as
	// cilium/ebpf reads them. The platform package has the last word.
	Hint ProgramHint
	// License is the object's license, which decides whether GPL-only
	// helpers may be called.
	License string
	// KernelVersion is the contents of the object's version section, or 0.
	KernelVersion uint32

	// Instructions are the program's slots: the entry function first, then
	// the functions it calls, with local calls (and lddw of function
	// addresses) pointing at them. An lddw takes two slots. References and
	// CORE say which slots the runtime still has to patch.
	Instructions []isa.Instruction
	// Functions lists where each function starts, in slot order; the entry
	// function is first, at slot 0.
	Functions []Function
	// References lists every slot that names a map, global data or a kernel
	// symbol, in slot order.
	References []Reference
	// Lines holds the source line of every slot (the same length as
	// Instructions). Slots without BTF line info inherit the line of the
	// slot before them in the same function; the zero SourceLine means none
	// is known.
	Lines []SourceLine
	// CORE lists the CO-RE relocations not applied yet, in slot order. Until
	// RelocateCORE applies them, their slots hold the values clang computed
	// for the object's own types.
	CORE []CORERelocation
}

// ProgramHint is the program type, attach type and flags that libbpf's
// section naming conventions imply. Numbers are Linux's (BPF_PROG_TYPE_*,
// BPF_* attach types, BPF_F_SLEEPABLE and BPF_F_XDP_HAS_FRAGS); zero means
// unknown.
type ProgramHint struct {
	Type       uint32
	AttachType uint32
	// AttachTo is the part of the section name after the first slash, when
	// the convention gives it a meaning ("sys_open" in "kprobe/sys_open").
	AttachTo string
	Flags    uint32
}

// Function is one function linked into a program.
type Function struct {
	Name  string
	Start int // slot index of the first instruction
}

// Copy returns a deep copy of the program.
func (p *ProgramSpec) Copy() *ProgramSpec {
	if p == nil {
		return nil
	}
	cpy := *p
	cpy.Instructions = slices.Clone(p.Instructions)
	cpy.Functions = slices.Clone(p.Functions)
	cpy.References = slices.Clone(p.References)
	cpy.Lines = slices.Clone(p.Lines)
	cpy.CORE = slices.Clone(p.CORE)
	for i := range cpy.CORE {
		cpy.CORE[i].accessor = slices.Clone(p.CORE[i].accessor)
	}
	return &cpy
}

// Line returns the source line of the slot at index pc, or the zero
// SourceLine if pc is out of range or no line is known.
func (p *ProgramSpec) Line(pc int) SourceLine {
	if pc < 0 || pc >= len(p.Lines) {
		return SourceLine{}
	}
	return p.Lines[pc]
}

// FunctionAt returns the function that contains the slot at index pc, or the
// zero Function if pc is out of range.
func (p *ProgramSpec) FunctionAt(pc int) Function {
	var f Function
	if pc < 0 || pc >= len(p.Instructions) {
		return f
	}
	for _, fn := range p.Functions {
		if fn.Start > pc {
			break
		}
		f = fn
	}
	return f
}

// SourceLine is a position in the C source, from BTF line info.
type SourceLine struct {
	File   string // as clang was given it, e.g. "fw.c"
	Line   uint32 // 1-based; 0 if unknown
	Column uint32 // 1-based; 0 if unknown
	Text   string // the source line itself
	// Start is true on the slot the BTF record names; the slots after it
	// that inherit the line have Start false.
	Start bool
}

// Known reports whether the slot has a source line.
func (l SourceLine) Known() bool { return l.Line != 0 || l.File != "" }

// String formats the position as file:line, like fw.c:41.
func (l SourceLine) String() string {
	if !l.Known() {
		return "?"
	}
	return l.File + ":" + strconv.Itoa(int(l.Line))
}

// RefKind says what a Reference names.
type RefKind uint8

const (
	// RefMap is an lddw of a map pointer (Src isa.PseudoMapIdx).
	RefMap RefKind = iota + 1
	// RefMapValue is an lddw of the address of a map's value at an offset
	// (Src isa.PseudoMapIdxValue); global data accesses are of this kind.
	RefMapValue
	// RefKfunc is a call of a kernel function by name (Src isa.CallKfunc,
	// imm 0 until the runtime binds it).
	RefKfunc
	// RefKsym is an lddw of the address of a kernel symbol declared __ksym
	// (Src isa.PseudoBTFID, imm 0 until the runtime binds it).
	RefKsym
)

func (k RefKind) String() string {
	switch k {
	case RefMap:
		return "map"
	case RefMapValue:
		return "map value"
	case RefKfunc:
		return "kfunc"
	case RefKsym:
		return "ksym"
	}
	return "RefKind(" + strconv.Itoa(int(k)) + ")"
}

// Reference is one slot that names something outside the program.
type Reference struct {
	Slot int // index of the lddw (or call) slot in Instructions
	Kind RefKind
	// Name is the map's name for RefMap and RefMapValue, the symbol's name
	// otherwise.
	Name string
	// Map is the index of the map in Spec.Maps (the lddw's imm), or -1.
	Map int
	// Offset is the byte offset into the map's value for RefMapValue (the
	// second slot's imm).
	Offset uint32
	// Variable names the global variable at Offset for RefMapValue, if the
	// object declares one there; static variables and string literals have
	// no name.
	Variable string
	// Weak says the symbol of a RefKfunc or RefKsym is declared __weak:
	// a runtime that lacks it binds the reference to nothing (libbpf
	// patches such a call; Linux then refuses it where it is reachable)
	// instead of refusing the object.
	Weak bool
}

// Pinning says whether a map is pinned, as LIBBPF_PIN_* numbers it.
type Pinning uint32

const (
	PinNone   Pinning = 0 // not pinned
	PinByName Pinning = 1 // pinned under its name in the pin directory
)

// MapSpec is one map the object declares.
type MapSpec struct {
	// Name is the map's symbol name, or the section name for global data
	// (".data", ".rodata", ".bss", ".data.custom", ...).
	Name string
	// Type is the Linux map type number (BPF_MAP_TYPE_*).
	Type       uint32
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	// Flags are the Linux map flags (BPF_F_*); read-only data sections
	// carry FlagReadOnlyProg.
	Flags    uint32
	MapExtra uint64
	NumaNode uint32
	Pinning  Pinning
	// HasSpinLock says the value holds a struct bpf_spin_lock at
	// SpinLockOffset (known from the value's BTF type): programs may only
	// reach it through bpf_spin_lock and bpf_spin_unlock.
	HasSpinLock    bool
	SpinLockOffset uint32
	// HasTimer says the value holds a struct bpf_timer (16 bytes) at
	// TimerOffset (known from the value's BTF type): the timer helpers
	// take exactly its address.
	HasTimer    bool
	TimerOffset uint32
	// InnerMap is the template of the maps a map-in-map holds, or nil.
	InnerMap *MapSpec
	// Contents are static initialisers: the program (prog arrays) or map
	// (map-in-maps) stored at each index, sorted by index.
	Contents []MapKV
	// Data is the initial value of the single entry of a global data map,
	// ValueSize bytes; nil for other maps.
	Data []byte

	// ID, ElfPinning, InnerID and InnerIndex are the fields iproute2's
	// struct bpf_elf_map adds to a legacy map definition, zero for other
	// objects. ID names the map for the others: a map-in-map's InnerID is
	// the ID of its inner map template; a map with an ID and an InnerIndex
	// other than 0xffffffff is stored at that index of every map-in-map
	// whose InnerID is its ID (Contents records it); an iproute2 tail-call
	// section "N/M" is stored at index M of the prog array whose ID is N
	// (Contents again). ElfPinning is iproute2's pinning: PIN_NONE 0,
	// PIN_OBJECT_NS 1, PIN_GLOBAL_NS 2 (which also sets Pinning to
	// PinByName), or a custom number from /etc/iproute2/bpf_pinning.
	ID, ElfPinning, InnerID, InnerIndex uint32
}

// Map types and flags the object package itself assigns (Linux numbers).
const (
	MapTypeArray     uint32 = 2   // BPF_MAP_TYPE_ARRAY, used for global data
	FlagReadOnlyProg uint32 = 128 // BPF_F_RDONLY_PROG, set on .rodata maps
)

// IsGlobalData reports whether the map holds a global data section.
func (m *MapSpec) IsGlobalData() bool { return m.Data != nil }

// Copy returns a deep copy of the map spec.
func (m *MapSpec) Copy() *MapSpec {
	if m == nil {
		return nil
	}
	cpy := *m
	cpy.InnerMap = m.InnerMap.Copy()
	cpy.Contents = slices.Clone(m.Contents)
	cpy.Data = slices.Clone(m.Data)
	return &cpy
}

// MapKV is one static initialiser of a map: Value names the program or map
// stored at index Key.
type MapKV struct {
	Key   uint32
	Value string
}

// VariableSpec is a global variable in a data section.
type VariableSpec struct {
	Name string
	// Map is the name of the data section map that holds it.
	Map    string
	Offset uint32
	Size   uint32
	// ReadOnly is true for variables in .rodata sections (const volatile
	// configuration knobs): programs cannot write them, SetConstant can
	// before loading.
	ReadOnly bool
	// Type is the variable's C type as BTF describes it ("__u32",
	// "struct config"), or "" without BTF.
	Type string
	// Kconfig is how an extern __kconfig variable (Map ".kconfig") holds
	// its kernel config value, as libbpf encodes it; KconfigNone for
	// other variables.
	Kconfig KconfigKind
}

// KconfigKind is the kind of value an extern __kconfig variable holds, as
// libbpf decides it from the variable's BTF type.
type KconfigKind uint8

// Kinds of __kconfig variables.
const (
	KconfigNone      KconfigKind = iota // not a __kconfig variable, or a type libbpf refuses
	KconfigBool                         // bool: y is 1, n is 0
	KconfigChar                         // char: the letter y, m or n
	KconfigTristate                     // enum libbpf_tristate: y 1, n 0, m 2
	KconfigInt                          // an unsigned integer of Size bytes
	KconfigSignedInt                    // a signed integer of Size bytes
	KconfigString                       // char[Size]: a quoted string
)
