package object

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/cilium/ebpf/btf"
)

// COREKind is the kind of a CO-RE relocation, numbered as Linux's enum
// bpf_core_relo_kind.
type COREKind uint32

// CO-RE relocation kinds.
const (
	COREFieldByteOffset COREKind = iota // offset of a field, in bytes
	COREFieldByteSize                   // size of a field, in bytes
	COREFieldExists                     // 1 if the field exists in the target
	COREFieldSigned                     // 1 if the field is a signed integer or enum
	COREFieldLShiftU64                  // left shift that isolates a bitfield in a u64
	COREFieldRShiftU64                  // right shift that isolates a bitfield in a u64
	CORETypeIDLocal                     // the type's BTF id in the object
	CORETypeIDTarget                    // the type's BTF id in the target
	CORETypeExists                      // 1 if the type exists in the target
	CORETypeSize                        // size of the type in the target
	COREEnumValueExists                 // 1 if the enumerator exists in the target
	COREEnumValue                       // value of the enumerator in the target
	CORETypeMatches                     // 1 if the type matches the target's strictly
)

var coreKindNames = [...]string{
	COREFieldByteOffset: "field offset",
	COREFieldByteSize:   "field size",
	COREFieldExists:     "field existence",
	COREFieldSigned:     "field signedness",
	COREFieldLShiftU64:  "bitfield left shift",
	COREFieldRShiftU64:  "bitfield right shift",
	CORETypeIDLocal:     "local type id",
	CORETypeIDTarget:    "target type id",
	CORETypeExists:      "type existence",
	CORETypeSize:        "type size",
	COREEnumValueExists: "enum value existence",
	COREEnumValue:       "enum value",
	CORETypeMatches:     "type match",
}

func (k COREKind) String() string {
	if int(k) < len(coreKindNames) {
		return coreKindNames[k]
	}
	return "kind " + strconv.Itoa(int(k))
}

func (k COREKind) isField() bool { return k <= COREFieldRShiftU64 }
func (k COREKind) isEnum() bool  { return k == COREEnumValueExists || k == COREEnumValue }

// CORERelocation is one CO-RE relocation: the slot whose offset or
// immediate depends on the layout of a type in the target.
type CORERelocation struct {
	Slot int
	Kind COREKind
	// Type is the object's type the access starts from, as C spells it.
	Type string
	// Accessor is clang's access string: the index into Type as an array,
	// then member or element indices ("0:2:1"), or the enumerator index.
	Accessor string
	// Path is the access in C terms: "struct ctx_like.nested.x",
	// "struct ctx_like", "enum color::GREEN".
	Path string

	local    btf.Type
	localID  btf.TypeID
	accessor []int
}

var (
	// ErrNoTargetType means the target has no type of the relocation's
	// name and kind.
	ErrNoTargetType = errors.New("no target type")
	// ErrNoTargetField means the target has the type but not the field (or
	// enumerator) the relocation accesses, or has it with an incompatible
	// type.
	ErrNoTargetField = errors.New("no such field in the target type")
	// ErrAmbiguousTarget means several target types match with different
	// results.
	ErrAmbiguousTarget = errors.New("ambiguous target")
)

// COREError is the error of one relocation that could not be resolved.
type COREError struct {
	Program string
	Slot    int
	Kind    COREKind
	Path    string
	Err     error
}

func (e *COREError) Error() string {
	return fmt.Sprintf("program %q: instruction %d: CO-RE %s of %q: %v", e.Program, e.Slot, e.Kind, e.Path, e.Err)
}

// Unwrap returns the cause, one of the ErrNoTarget... sentinels or
// ErrNotSupported.
func (e *COREError) Unwrap() error { return e.Err }

// coreRelocation reads cilium/ebpf's relocation metadata. cilium/ebpf keeps
// the kind, accessor and type id unexported, and its own applier refuses to
// run off Linux, so reflection is the only way to the facts; the test suite
// pins the field names.
func (c *programConverter) coreRelocation(pc int, relo *btf.CORERelocation) (CORERelocation, error) {
	rv := reflect.ValueOf(relo).Elem()
	kind, acc, id := rv.FieldByName("kind"), rv.FieldByName("accessor"), rv.FieldByName("id")
	if !kind.IsValid() || !acc.IsValid() || !id.IsValid() ||
		!kind.CanUint() || acc.Kind() != reflect.Slice || !id.CanUint() {
		return CORERelocation{}, fmt.Errorf("CO-RE relocation metadata of cilium/ebpf has an unknown layout: %w", ErrNotSupported)
	}
	if c.types == nil {
		return CORERelocation{}, fmt.Errorf("%w: CO-RE relocation without BTF", ErrInvalidObject)
	}
	r := CORERelocation{
		Slot:     pc,
		Kind:     COREKind(kind.Uint()),
		localID:  btf.TypeID(id.Uint()),
		accessor: make([]int, acc.Len()),
	}
	parts := make([]string, acc.Len())
	for i := range r.accessor {
		r.accessor[i] = int(acc.Index(i).Int())
		parts[i] = strconv.Itoa(r.accessor[i])
	}
	r.Accessor = strings.Join(parts, ":")
	if r.Kind > CORETypeMatches {
		return r, fmt.Errorf("CO-RE relocation of unknown kind %d: %w", r.Kind, ErrNotSupported)
	}
	typ, err := c.types.TypeByID(r.localID)
	if err != nil {
		return r, fmt.Errorf("%w: CO-RE relocation of type id %d: %w", ErrInvalidObject, r.localID, err)
	}
	r.local = typ
	r.Type = typeString(typ)
	if len(r.accessor) == 0 {
		return r, fmt.Errorf("%w: CO-RE %s of %s: empty accessor", ErrInvalidObject, r.Kind, r.Type)
	}
	switch {
	case r.Kind.isField():
		spec, err := parseField(typ, r.accessor)
		if err != nil {
			return r, fmt.Errorf("%w: CO-RE %s of %s: accessor %s: %w", ErrInvalidObject, r.Kind, r.Type, r.Accessor, err)
		}
		r.Path = spec.path()
	case r.Kind.isEnum():
		name, err := enumValueName(typ, r.accessor)
		if err != nil {
			return r, fmt.Errorf("%w: CO-RE %s of %s: accessor %s: %w", ErrInvalidObject, r.Kind, r.Type, r.Accessor, err)
		}
		r.Path = r.Type + "::" + name
	default:
		if len(r.accessor) != 1 || r.accessor[0] != 0 {
			return r, fmt.Errorf("%w: CO-RE %s of %s: accessor %s, want 0", ErrInvalidObject, r.Kind, r.Type, r.Accessor)
		}
		r.Path = r.Type
	}
	return r, nil
}

// RelocateCORE resolves the CO-RE relocations of every program against
// target, the BTF of the types the programs will really see (LoadTargetBTF
// reads one). A program is patched only if all its relocations resolve; the
// error joins a COREError for each relocation that did not, naming program,
// instruction, kind and access. Relocations that resolved are removed from
// ProgramSpec.CORE.
func (s *Spec) RelocateCORE(target *btf.Spec) error {
	if target == nil {
		return errors.New("object: CO-RE: no target BTF")
	}
	idx, err := newTargetIndex(target)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range s.Programs {
		if err := p.relocate(idx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// RelocateCORE resolves the program's CO-RE relocations against target,
// like Spec.RelocateCORE does for every program.
func (p *ProgramSpec) RelocateCORE(target *btf.Spec) error {
	if target == nil {
		return errors.New("object: CO-RE: no target BTF")
	}
	idx, err := newTargetIndex(target)
	if err != nil {
		return err
	}
	return p.relocate(idx)
}

func (p *ProgramSpec) relocate(idx *targetIndex) error {
	if len(p.CORE) == 0 {
		return nil
	}
	insns := slices.Clone(p.Instructions)
	var errs []error
	for _, r := range p.CORE {
		if err := r.apply(insns, idx); err != nil {
			errs = append(errs, &COREError{Program: p.Name, Slot: r.Slot, Kind: r.Kind, Path: r.Path, Err: err})
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	p.Instructions = insns
	p.CORE = nil
	return nil
}

// coreResult is the value a relocation has for the object's own types and
// for the target, and how to patch the instruction.
type coreResult struct {
	local, target uint64
	// validate is false where clang and libbpf may legitimately disagree on
	// the local value (bitfield loads), so the instruction is not checked.
	validate bool
	// For field offsets used by loads and stores: the field's size in the
	// object and in the target, and whether a load or store may change its
	// width to match (unsigned integers and pointers only).
	localSize, targetSize uint32
	resizable             bool
}

func (r *CORERelocation) apply(insns []isa.Instruction, idx *targetIndex) error {
	if r.local == nil {
		return fmt.Errorf("relocation has no local type: %w", ErrInvalidObject)
	}
	if r.Kind == CORETypeIDLocal {
		return nil // the object's own id is already in place
	}
	res, err := r.resolve(idx)
	if err != nil {
		return err
	}
	return patchCORE(insns, r.Slot, res)
}

func (r *CORERelocation) resolve(idx *targetIndex) (coreResult, error) {
	switch {
	case r.Kind.isField():
		return resolveField(r.Kind, r.local, r.accessor, idx)
	case r.Kind.isEnum():
		return resolveEnum(r.Kind, r.local, r.accessor, idx)
	case r.Kind == CORETypeMatches:
		return coreResult{}, fmt.Errorf("type matching relocations: %w", ErrNotSupported)
	default:
		return resolveType(r.Kind, r.local, r.localID, idx)
	}
}

// patchCORE writes the target value into the slot: the offset of a load or
// store, the immediate of an ALU instruction, or the 64-bit immediate of an
// lddw, after checking the slot holds the local value.
func patchCORE(insns []isa.Instruction, pc int, res coreResult) error {
	if pc < 0 || pc >= len(insns) {
		return fmt.Errorf("%w: slot %d is outside the program", ErrInvalidObject, pc)
	}
	ins := &insns[pc]
	op := ins.Opcode
	switch cls := op.Class(); {
	case cls == isa.ClassLDX || cls == isa.ClassST || cls == isa.ClassSTX:
		if res.validate && int64(ins.Offset) != int64(res.local) {
			return fmt.Errorf("instruction has offset %d, want the local value %d", ins.Offset, res.local)
		}
		if res.target > math.MaxInt16 {
			return fmt.Errorf("target offset %d does not fit a 16-bit offset", res.target)
		}
		if res.localSize != res.targetSize && res.targetSize != 0 {
			if op.Size().Bytes() != int(res.localSize) {
				return fmt.Errorf("instruction accesses %d bytes of a %d-byte field", op.Size().Bytes(), res.localSize)
			}
			if !res.resizable {
				return fmt.Errorf("field is %d bytes in the target, %d in the object, and not an unsigned integer or pointer", res.targetSize, res.localSize)
			}
			size, ok := sizeFor(res.targetSize)
			if !ok {
				return fmt.Errorf("field is %d bytes in the target: no load or store of that size", res.targetSize)
			}
			ins.Opcode = op&^0x18 | isa.Opcode(size)
		}
		ins.Offset = int16(res.target)

	case op == isa.OpLoadImm64:
		if pc+1 >= len(insns) {
			return fmt.Errorf("%w: truncated lddw", ErrInvalidObject)
		}
		if res.validate && isa.Imm64(*ins, insns[pc+1]) != res.local {
			return fmt.Errorf("instruction has immediate %d, want the local value %d", isa.Imm64(*ins, insns[pc+1]), res.local)
		}
		pair := isa.LoadImm64(ins.Dst, ins.Src, res.target)
		insns[pc], insns[pc+1] = pair[0], pair[1]

	case cls.IsALU() && op.Source() == isa.SourceK && op.ALUOp() != isa.ALUEnd:
		if res.validate && int64(ins.Imm) != int64(res.local) {
			return fmt.Errorf("instruction has immediate %d, want the local value %d", ins.Imm, res.local)
		}
		if int64(res.target) > math.MaxInt32 || int64(res.target) < math.MinInt32 {
			return fmt.Errorf("target value %d does not fit a 32-bit immediate", res.target)
		}
		ins.Imm = int32(res.target)

	default:
		return fmt.Errorf("%w: relocation on instruction with opcode %#02x", ErrInvalidObject, uint8(op))
	}
	return nil
}

func sizeFor(n uint32) (isa.Size, bool) {
	switch n {
	case 1:
		return isa.SizeB, true
	case 2:
		return isa.SizeH, true
	case 4:
		return isa.SizeW, true
	case 8:
		return isa.SizeDW, true
	}
	return 0, false
}

// CORETarget is target BTF indexed for CO-RE relocations, so that many
// programs are relocated against one target (a kernel's BTF, thousands of
// types) without indexing it for each.
type CORETarget struct {
	idx *targetIndex
}

// NewCORETarget indexes target for RelocatedCORE.
func NewCORETarget(target *btf.Spec) (*CORETarget, error) {
	if target == nil {
		return nil, errors.New("object: CO-RE: no target BTF")
	}
	idx, err := newTargetIndex(target)
	if err != nil {
		return nil, err
	}
	return &CORETarget{idx: idx}, nil
}

// COREPoison is the helper number libbpf calls in place of an instruction
// whose CO-RE relocation has no target (0xbad2310): a program that reaches
// it is rejected ("invalid func unknown#195896080"); one whose code guards
// it with bpf_core_field_exists and the like never does.
const COREPoison = 0xbad2310

// RelocatedCORE returns a copy of p with its CO-RE relocations resolved
// against t, as libbpf resolves them when it loads a program: an
// instruction whose relocation finds no target type or field becomes a
// call of COREPoison (both slots of an lddw), so that only code that can
// run is refused for it. Other failures are errors. p is not changed.
func (p *ProgramSpec) RelocatedCORE(t *CORETarget) (*ProgramSpec, error) {
	cp := *p
	if len(p.CORE) == 0 {
		return &cp, nil
	}
	insns := slices.Clone(p.Instructions)
	var errs []error
	for _, r := range p.CORE {
		err := r.apply(insns, t.idx)
		if errors.Is(err, ErrNoTargetType) || errors.Is(err, ErrNoTargetField) {
			if r.Slot >= 0 && r.Slot < len(insns) {
				wide := insns[r.Slot].IsLoadImm64() && r.Slot+1 < len(insns)
				insns[r.Slot] = isa.Instruction{Opcode: isa.OpCall, Imm: COREPoison}
				if wide {
					insns[r.Slot+1] = isa.Instruction{Opcode: isa.OpCall, Imm: COREPoison}
				}
				continue
			}
		}
		if err != nil {
			errs = append(errs, &COREError{Program: p.Name, Slot: r.Slot, Kind: r.Kind, Path: r.Path, Err: err})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	cp.Instructions, cp.CORE = insns, nil
	return &cp, nil
}
