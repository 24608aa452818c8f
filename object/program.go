package object

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"reflect"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
)

// programConverter turns cilium/ebpf's linked instruction streams into
// isa slots with our relocation convention.
type programConverter struct {
	spec  *Spec
	types *btf.Spec
	// weak are the weak extern symbols (legacyInfo.weakExterns).
	weak map[string]bool
}

func newProgramConverter(spec *Spec, cs *ebpf.CollectionSpec) *programConverter {
	return &programConverter{spec: spec, types: cs.Types}
}

func (c *programConverter) convert(name string, ps *ebpf.ProgramSpec) (*ProgramSpec, error) {
	if ps.ByteOrder != nil && ps.ByteOrder != binary.LittleEndian {
		return nil, fmt.Errorf("big-endian program: %w", ErrNotSupported)
	}
	if uint32(ps.Type) >= windowsTag {
		return nil, fmt.Errorf("program type %v is not a Linux program type: %w", ps.Type, ErrNotSupported)
	}
	section, autoload := splitAutoload(ps.SectionName)
	p := &ProgramSpec{
		Name:          name,
		Section:       section,
		NoAutoload:    !autoload,
		License:       ps.License,
		KernelVersion: ps.KernelVersion,
		Hint: ProgramHint{
			Type:       uint32(ps.Type),
			AttachType: uint32(ps.AttachType),
			AttachTo:   ps.AttachTo,
			Flags:      ps.Flags,
		},
	}
	insns := ps.Instructions
	if len(insns) == 0 {
		return nil, fmt.Errorf("%w: no instructions", ErrInvalidObject)
	}

	// Pass 1: the slot of every instruction and where functions start.
	slots := make([]int, len(insns))
	symbols := make(map[string]int)
	n := 0
	for i := range insns {
		slots[i] = n
		if sym := insns[i].Symbol(); sym != "" {
			if _, dup := symbols[sym]; dup {
				return nil, fmt.Errorf("%w: function %q linked twice", ErrInvalidObject, sym)
			}
			symbols[sym] = n
			p.Functions = append(p.Functions, Function{Name: sym, Start: n})
		}
		n += int(insns[i].Width())
		if n > isa.MaxInstructions {
			return nil, fmt.Errorf("%w: more than %d instructions", ErrInvalidObject, isa.MaxInstructions)
		}
	}
	if len(p.Functions) == 0 || p.Functions[0].Start != 0 {
		// A hand-built CollectionSpec may not mark its entry function.
		p.Functions = append([]Function{{Name: name, Start: 0}}, p.Functions...)
	}

	// Pass 2: encode, link and collect metadata.
	p.Instructions = make([]isa.Instruction, 0, n)
	p.Lines = make([]SourceLine, n)
	for i := range insns {
		ins := &insns[i]
		pc := slots[i]
		enc, err := encode(ins)
		if err != nil {
			return nil, fmt.Errorf("instruction %d: %w", pc, err)
		}
		if len(enc) != int(ins.Width()) {
			return nil, fmt.Errorf("%w: instruction %d: encodes to %d slots, want %d", ErrInvalidObject, pc, len(enc), ins.Width())
		}
		if err := c.link(p, pc, ins, enc, symbols); err != nil {
			return nil, fmt.Errorf("instruction %d: %w", pc, err)
		}
		p.Instructions = append(p.Instructions, enc...)

		if line, ok := ins.Source().(*btf.Line); ok && line != nil {
			p.Lines[pc] = SourceLine{
				File:   line.FileName(),
				Line:   line.LineNumber(),
				Column: line.LineColumn(),
				Text:   line.Line(),
				Start:  true,
			}
		}
		if relo := btf.CORERelocationMetadata(ins); relo != nil {
			r, err := c.coreRelocation(pc, relo)
			if err != nil {
				return nil, fmt.Errorf("instruction %d: %w", pc, err)
			}
			p.CORE = append(p.CORE, r)
		}
	}
	fillLines(p)
	return p, nil
}

// fillLines gives every slot without a BTF line record the line of the slot
// before it, within the same function: a record covers the instructions up
// to the next one, as in the kernel's verifier log.
func fillLines(p *ProgramSpec) {
	for f, fn := range p.Functions {
		end := len(p.Lines)
		if f+1 < len(p.Functions) {
			end = p.Functions[f+1].Start
		}
		var last SourceLine
		for pc := fn.Start; pc < end; pc++ {
			if p.Lines[pc].Start {
				last = p.Lines[pc]
				last.Start = false
				continue
			}
			p.Lines[pc] = last
		}
	}
}

// encode turns one cilium/ebpf instruction into its one or two slots.
func encode(ins *asm.Instruction) ([]isa.Instruction, error) {
	if ins.IsBuiltinCall() {
		// cilium/ebpf tags helper numbers with a platform and refuses to
		// encode Linux helpers on other hosts; encode the call without it.
		c := ins.Constant
		if c >= windowsTag {
			return nil, fmt.Errorf("helper %#x is not a Linux helper: %w", c, ErrNotSupported)
		}
		tmp := *ins
		tmp.Src, tmp.Constant = asm.PseudoCall, 0
		enc, err := marshal(&tmp)
		if err != nil {
			return nil, err
		}
		enc[0].Src, enc[0].Imm = 0, int32(c)
		return enc, nil
	}
	return marshal(ins)
}

func marshal(ins *asm.Instruction) ([]isa.Instruction, error) {
	var buf bytes.Buffer
	if _, err := ins.Marshal(&buf, binary.LittleEndian); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidObject, err)
	}
	return isa.Decode(buf.Bytes())
}

// link resolves what the instruction names: local calls and function
// addresses become relative slot offsets; maps, global data, kfuncs and
// ksyms get the package's relocation convention and a Reference.
func (c *programConverter) link(p *ProgramSpec, pc int, ins *asm.Instruction, enc []isa.Instruction, symbols map[string]int) error {
	ref := ins.Reference()
	lddw := ins.OpCode.IsDWordLoad()
	switch {
	case ins.IsFunctionReference():
		if ref == "" {
			if ins.Constant == -1 {
				return fmt.Errorf("%w: local call without a target", ErrInvalidObject)
			}
			return nil // already a relative offset
		}
		target, ok := symbols[ref]
		if !ok {
			return fmt.Errorf("call to undefined function %q: %w", ref, ErrNotFound)
		}
		enc[0].Imm = int32(target - (pc + 1))
		if lddw {
			enc[1].Imm = 0
		}
		return nil

	case lddw && ins.Src == asm.PseudoMapFD:
		if ref == "" {
			return fmt.Errorf("map load without a map name (a map bound by fd?): %w", ErrNotSupported)
		}
		idx := c.spec.MapIndex(ref)
		if idx < 0 {
			return fmt.Errorf("reference to undefined map %q: %w", ref, ErrNotFound)
		}
		enc[0].Src, enc[0].Imm = isa.PseudoMapIdx, int32(idx)
		enc[1].Imm = 0
		p.References = append(p.References, Reference{Slot: pc, Kind: RefMap, Name: ref, Map: idx})
		return nil

	case lddw && ins.Src == asm.PseudoMapValue:
		mapName, offset := ref, uint32(uint64(ins.Constant)>>32)
		if ref == "" {
			off, ok := kconfigOffset(ins)
			if !ok {
				return fmt.Errorf("map value load without a map name (a map bound by fd?): %w", ErrNotSupported)
			}
			mapName, offset = ".kconfig", off
		}
		idx := c.spec.MapIndex(mapName)
		if idx < 0 {
			return fmt.Errorf("reference to undefined map %q: %w", mapName, ErrNotFound)
		}
		m := c.spec.Maps[idx]
		if offset >= m.ValueSize {
			return fmt.Errorf("%w: offset %d into map %q whose values are %d bytes", ErrInvalidObject, offset, mapName, m.ValueSize)
		}
		enc[0].Src, enc[0].Imm = isa.PseudoMapIdxValue, int32(idx)
		enc[1].Imm = int32(offset)
		p.References = append(p.References, Reference{
			Slot: pc, Kind: RefMapValue, Name: mapName, Map: idx, Offset: offset,
			Variable: c.variableAt(mapName, offset),
		})
		return nil

	case ins.IsKfuncCall():
		if ref == "" {
			return fmt.Errorf("%w: kfunc call without a name", ErrInvalidObject)
		}
		enc[0].Imm = 0
		p.References = append(p.References, Reference{Slot: pc, Kind: RefKfunc, Name: ref, Map: -1, Weak: c.weak[ref]})
		return nil

	case lddw && ref != "":
		// An extern __ksym variable (or a kfunc's address).
		enc[0].Src, enc[0].Imm = isa.PseudoBTFID, 0
		enc[1].Imm = 0
		p.References = append(p.References, Reference{Slot: pc, Kind: RefKsym, Name: ref, Map: -1, Weak: c.weak[ref]})
		return nil

	case ref != "":
		return fmt.Errorf("reference to symbol %q from an instruction that cannot hold one: %w", ref, ErrNotSupported)

	case lddw && ins.Src != asm.R0:
		return fmt.Errorf("lddw with source form %d and no symbol: %w", ins.Src, ErrNotSupported)
	}
	return nil
}

// kconfigOffset finds the offset cilium/ebpf records for a load of an
// extern __kconfig variable. It keeps it in instruction metadata under an
// unexported key, so the metadata list is read by reflection.
func kconfigOffset(ins *asm.Instruction) (uint32, bool) {
	e := reflect.ValueOf(&ins.Metadata).Elem().FieldByName("head")
	for n := 0; n < 64 && e.IsValid() && e.Kind() == reflect.Pointer && !e.IsNil(); n++ {
		el := e.Elem()
		key, value := el.FieldByName("key"), el.FieldByName("value")
		if key.Kind() == reflect.Interface && !key.IsNil() && key.Elem().Type().Name() == "kconfigMetaKey" &&
			value.Kind() == reflect.Interface && !value.IsNil() {
			v := value.Elem()
			if v.Kind() == reflect.Pointer && !v.IsNil() {
				off := v.Elem().FieldByName("Offset")
				if off.IsValid() && off.CanUint() {
					return uint32(off.Uint()), true
				}
			}
			return 0, false
		}
		e = el.FieldByName("next")
	}
	return 0, false
}

// variableAt names the global variable of the data section map that holds
// the byte at offset, or returns "".
func (c *programConverter) variableAt(mapName string, offset uint32) string {
	for _, v := range c.spec.Variables {
		if v.Map == mapName && offset >= v.Offset && offset < v.Offset+v.Size {
			return v.Name
		}
	}
	return ""
}
