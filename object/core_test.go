package object

import (
	"encoding/binary"
	"errors"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

func loadTarget(t *testing.T, path string) *btf.Spec {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	spec, err := LoadTargetBTF(f)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func buildTarget(t *testing.T, types ...btf.Type) *btf.Spec {
	t.Helper()
	b, err := btf.NewBuilder(types, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := b.Spec()
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// coreValue reads what a relocated slot holds: the offset of a load or
// store, the immediate of an ALU instruction or lddw.
func coreValue(p *ProgramSpec, pc int) int64 {
	ins := p.Instructions[pc]
	switch c := ins.Opcode.Class(); {
	case c == isa.ClassLDX || c == isa.ClassST || c == isa.ClassSTX:
		return int64(ins.Offset)
	case ins.IsLoadImm64():
		return int64(isa.Imm64(ins, p.Instructions[pc+1]))
	}
	return int64(ins.Imm)
}

type coreWant struct {
	kind  COREKind
	path  string
	value int64
}

// coreProgValues are core_prog's relocations in slot order, with the values
// for core.c's own types and for core_target.c's.
var coreProgValues = []struct {
	coreWant
	target int64
}{
	{coreWant{COREFieldByteOffset, "struct ctx_like.b", 4}, 8},
	{coreWant{COREFieldByteOffset, "struct ctx_like.arr[2]", 24}, 40},
	{coreWant{COREFieldByteOffset, "struct ctx_like.ulen", 36}, 24},
	{coreWant{COREFieldByteOffset, "struct ctx_like.a", 0}, 12},
	{coreWant{COREFieldByteOffset, "struct ctx_like.nested.x", 12}, 72},
	{coreWant{COREFieldByteOffset, "struct ctx_like.mode", 8}, 16},
	{coreWant{COREFieldExists, "struct ctx_like.a", 1}, 1},
	{coreWant{COREFieldByteSize, "struct ctx_like.mode", 4}, 4},
	{coreWant{COREFieldByteSize, "struct ctx_like.b", 4}, 4},
	{coreWant{CORETypeSize, "struct ctx_like", 40}, 80},
	{coreWant{CORETypeExists, "struct only_local", 1}, 0},
	{coreWant{COREFieldLShiftU64, "struct ctx_like.mode", 56}, 52},
	{coreWant{COREFieldSigned, "struct ctx_like.mode", 0}, 0},
	{coreWant{COREFieldRShiftU64, "struct ctx_like.mode", 59}, 59},
	{coreWant{COREFieldRShiftU64, "struct ctx_like.mode", 59}, 59},
	{coreWant{COREEnumValueExists, "enum color::PURPLE", 1}, 0},
	{coreWant{COREEnumValue, "enum color::GREEN", 2}, 20},
}

func TestCORERelocations(t *testing.T) {
	p := mustLoad(t, "core.o").Program("core_prog")
	if len(p.CORE) != len(coreProgValues) {
		t.Fatalf("%d relocations, want %d: %+v", len(p.CORE), len(coreProgValues), p.CORE)
	}
	for i, r := range p.CORE {
		w := coreProgValues[i]
		got := coreWant{r.Kind, r.Path, coreValue(p, r.Slot)}
		if got != w.coreWant {
			t.Errorf("relocation %d at slot %d: %v, want %v", i, r.Slot, got, w.coreWant)
		}
		if r.Type == "" || r.Accessor == "" || (i > 0 && r.Slot < p.CORE[i-1].Slot) {
			t.Errorf("relocation %d: %+v", i, r)
		}
	}
	line, _ := markerLine(t, "core.c", "core_ulen")
	if l := p.Line(p.CORE[2].Slot); l.Line != uint32(line) {
		t.Errorf("ulen relocation on line %d, want %d", l.Line, line)
	}
}

// TestRelocateCOREItself relocates against the object's own types, which
// must change nothing: this checks every local value this package computes
// against the one clang put into the instruction.
func TestRelocateCOREItself(t *testing.T) {
	spec := mustLoad(t, "core.o")
	before := spec.Copy()
	if err := spec.RelocateCORE(loadTarget(t, "testdata/core.o")); err != nil {
		t.Fatal(err)
	}
	for i, p := range spec.Programs {
		if !reflect.DeepEqual(p.Instructions, before.Programs[i].Instructions) {
			t.Errorf("%s: instructions changed", p.Name)
		}
		if len(p.CORE) != 0 {
			t.Errorf("%s: %d relocations still pending", p.Name, len(p.CORE))
		}
	}
}

func TestRelocateCORE(t *testing.T) {
	spec := mustLoad(t, "core.o")
	before := spec.Copy()
	err := spec.RelocateCORE(loadTarget(t, "testdata/core_target.o"))

	wantErrs := []string{
		`program "core_missing_field": instruction 3: CO-RE field offset of "struct ctx_like.removed": no such field in the target type (struct ctx_like, 1 candidate types)`,
		`program "core_missing_type": instruction 0: CO-RE field offset of "struct only_local.q": no target type`,
	}
	if err == nil || err.Error() != strings.Join(wantErrs, "\n") {
		t.Errorf("error:\n%v\nwant:\n%s", err, strings.Join(wantErrs, "\n"))
	}
	if !errors.Is(err, ErrNoTargetType) || !errors.Is(err, ErrNoTargetField) {
		t.Errorf("error %v does not wrap ErrNoTargetType and ErrNoTargetField", err)
	}
	var ce *COREError
	if !errors.As(err, &ce) || ce.Program != "core_missing_field" || ce.Slot != 3 || ce.Kind != COREFieldByteOffset {
		t.Errorf("errors.As: %+v", ce)
	}

	// Failed programs are left as they were.
	for _, name := range []string{"core_missing_field", "core_missing_type"} {
		if !reflect.DeepEqual(spec.Program(name), before.Program(name)) {
			t.Errorf("%s changed although its relocation failed", name)
		}
	}

	p := spec.Program("core_prog")
	if len(p.CORE) != 0 {
		t.Fatalf("core_prog: %d relocations pending", len(p.CORE))
	}
	for i, r := range before.Program("core_prog").CORE {
		if got := coreValue(p, r.Slot); got != coreProgValues[i].target {
			t.Errorf("slot %d: %s of %s is %d, want %d", r.Slot, r.Kind, r.Path, got, coreProgValues[i].target)
		}
		if r.Path == "struct ctx_like.ulen" {
			// The unsigned field grew from 4 to 8 bytes: so does the load.
			if s := p.Instructions[r.Slot].Opcode.Size(); s != isa.SizeDW {
				t.Errorf("ulen load has size %v, want dw", s)
			}
		}
	}
	if err := isa.Validate(p.Instructions); err != nil {
		t.Error(err)
	}
	if err := p.RelocateCORE(loadTarget(t, "testdata/core_target.o")); err != nil {
		t.Errorf("relocating again with nothing pending: %v", err)
	}
}

func TestRelocateCORESynthetic(t *testing.T) {
	i32 := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	i64 := &btf.Int{Name: "long", Size: 8, Encoding: btf.Signed}
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	onlyLocal := func(name string, members ...btf.Member) *btf.Struct {
		return &btf.Struct{Name: name, Size: 16, Members: members}
	}
	tests := []struct {
		name   string
		target []btf.Type
		prog   string
		value  int64 // the relocated value of the first relocation
		err    error
	}{
		{
			name:   "anonymous union",
			target: []btf.Type{onlyLocal("only_local", btf.Member{Name: "pad", Type: i64}, btf.Member{Type: &btf.Union{Size: 4, Members: []btf.Member{{Name: "z", Type: i32}, {Name: "q", Type: i32}}}, Offset: 64})},
			prog:   "core_missing_type",
			value:  8,
		},
		{
			name:   "flavor",
			target: []btf.Type{onlyLocal("only_local___v2", btf.Member{Name: "pad", Type: i32}, btf.Member{Name: "q", Type: i32, Offset: 32})},
			prog:   "core_missing_type",
			value:  4,
		},
		{
			name:   "signed field resized",
			target: []btf.Type{onlyLocal("only_local", btf.Member{Name: "q", Type: i64})},
			prog:   "core_missing_type",
			err:    errors.New(`program "core_missing_type": instruction 0: CO-RE field offset of "struct only_local.q": field is 8 bytes in the target, 4 in the object, and not an unsigned integer or pointer`),
		},
		{
			name:   "incompatible field",
			target: []btf.Type{onlyLocal("only_local", btf.Member{Name: "q", Type: &btf.Pointer{Target: u32}})},
			prog:   "core_missing_type",
			err:    ErrNoTargetField,
		},
		{
			name: "ambiguous",
			target: []btf.Type{
				onlyLocal("only_local___a", btf.Member{Name: "q", Type: i32}),
				onlyLocal("only_local___b", btf.Member{Name: "pad", Type: i32}, btf.Member{Name: "q", Type: i32, Offset: 32}),
			},
			prog: "core_missing_type",
			err:  ErrAmbiguousTarget,
		},
		{
			name:   "wrong kind",
			target: []btf.Type{&btf.Union{Name: "only_local", Size: 4, Members: []btf.Member{{Name: "q", Type: i32}}}},
			prog:   "core_missing_type",
			err:    ErrNoTargetType,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustLoad(t, "core.o").Program(tt.prog)
			slot := p.CORE[0].Slot
			err := p.RelocateCORE(buildTarget(t, tt.target...))
			switch {
			case tt.err == nil && err != nil:
				t.Fatal(err)
			case tt.err == nil:
				if got := coreValue(p, slot); got != tt.value {
					t.Errorf("value %d, want %d", got, tt.value)
				}
			case errors.Is(err, tt.err):
			case err == nil || err.Error() != tt.err.Error():
				t.Errorf("error %v, want %v", err, tt.err)
			}
		})
	}

	if err := mustLoad(t, "core.o").RelocateCORE(nil); err == nil {
		t.Error("RelocateCORE(nil) succeeded")
	}
}

func TestEssentialName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"task_struct", "task_struct"},
		{"task_struct___old", "task_struct"},
		{"task_struct___a___b", "task_struct___a"},
		{"a____b", "a____b"},
		{"x___", "x___"},
		{"___x", "___x"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := essentialName(tt.in); got != tt.want {
			t.Errorf("essentialName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestRelocateCOREOracle compares the relocated values with cilium/ebpf's own
// CO-RE implementation (which only computes here: nothing is loaded).
func TestRelocateCOREOracle(t *testing.T) {
	cs, err := ebpf.LoadCollectionSpec("testdata/core.o")
	if err != nil {
		t.Fatal(err)
	}
	target := loadTarget(t, "testdata/core_target.o")
	spec := mustLoad(t, "core.o")
	if err := spec.Program("core_prog").RelocateCORE(target); err != nil {
		t.Fatal(err)
	}
	p := spec.Program("core_prog")
	before := mustLoad(t, "core.o").Program("core_prog")

	var relos []*btf.CORERelocation
	for _, ins := range cs.Programs["core_prog"].Instructions {
		if r := btf.CORERelocationMetadata(&ins); r != nil {
			relos = append(relos, r)
		}
	}
	if len(relos) != len(before.CORE) {
		t.Fatalf("cilium/ebpf sees %d relocations, we see %d", len(relos), len(before.CORE))
	}
	fixups, err := btf.CORERelocate(relos, []*btf.Spec{target}, binary.LittleEndian, cs.Types.TypeID)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range fixups {
		// COREFixup's fields are unexported; its String is "kind=local->target".
		s := f.String()
		arrow := strings.LastIndex(s, "->")
		if arrow < 0 {
			t.Errorf("relocation %d: cilium/ebpf says %s", i, s)
			continue
		}
		want, err := strconv.ParseInt(s[arrow+2:], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		r := before.CORE[i]
		if got := coreValue(p, r.Slot); got != want {
			t.Errorf("slot %d: %s of %s: %d, cilium/ebpf says %s", r.Slot, r.Kind, r.Path, got, s)
		}
	}
}

// TestRelocatedCOREPoison: RelocatedCORE, like libbpf, turns an instruction
// whose relocation has no target into a call of COREPoison and relocates
// the rest, leaving the program it was given as it was.
func TestRelocatedCOREPoison(t *testing.T) {
	spec := mustLoad(t, "core.o")
	target, err := NewCORETarget(loadTarget(t, "testdata/core_target.o"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		slot int
	}{{"core_missing_field", 3}, {"core_missing_type", 0}} {
		p := spec.Program(tc.name)
		before := slices.Clone(p.Instructions)
		rel, err := p.RelocatedCORE(target)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if ins := rel.Instructions[tc.slot]; ins.Opcode != isa.OpCall || ins.Imm != COREPoison {
			t.Errorf("%s: slot %d is %v, want a call of the poison helper", tc.name, tc.slot, ins)
		}
		if len(rel.CORE) != 0 {
			t.Errorf("%s: %d relocations pending", tc.name, len(rel.CORE))
		}
		if !slices.Equal(p.Instructions, before) || len(p.CORE) == 0 {
			t.Errorf("%s: the original program changed", tc.name)
		}
	}
	rel, err := spec.Program("core_prog").RelocatedCORE(target)
	if err != nil {
		t.Fatal(err)
	}
	for _, ins := range rel.Instructions {
		if ins.Opcode == isa.OpCall && ins.Imm == COREPoison {
			t.Error("core_prog, all of whose relocations resolve, was poisoned")
		}
	}
}
