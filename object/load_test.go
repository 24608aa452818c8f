package object

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/cilium/ebpf"
)

// objects are the compiled test objects; `make -C object/testdata` rebuilds
// them from their C sources.
var objects = []string{"prog.o", "prog-v4.o", "core.o", "extern.o"}

func mustLoad(t testing.TB, name string) *Spec {
	t.Helper()
	spec, err := Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// markerLine returns the 1-based line of the C source that contains
// "marker:<name>".
func markerLine(t *testing.T, file, name string) (int, string) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if strings.Contains(sc.Text(), "marker:"+name+" ") {
			return n, sc.Text()
		}
	}
	t.Fatalf("%s has no marker %q", file, name)
	return 0, ""
}

func TestLoadErrors(t *testing.T) {
	data, err := os.ReadFile("testdata/prog.o")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		input []byte
	}{
		{"empty", nil},
		{"not ELF", []byte("this is not an ELF file at all, just text")},
		{"truncated header", data[:40]},
		{"truncated sections", data[:len(data)/2]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadReader(bytes.NewReader(tt.input))
			if !errors.Is(err, ErrInvalidObject) {
				t.Fatalf("LoadReader: %v, want ErrInvalidObject", err)
			}
			if !strings.HasPrefix(err.Error(), "object: ") {
				t.Errorf("error %q does not start with \"object: \"", err)
			}
		})
	}

	path := filepath.Join(t.TempDir(), "fw.o")
	if err := os.WriteFile(path, data[:100], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.HasPrefix(err.Error(), "object: "+path+": ") {
		t.Errorf("Load of a truncated file: %v, want an error naming %s", err, path)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.o")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want os.ErrNotExist", err)
	}
}

func TestPrograms(t *testing.T) {
	want := []struct {
		name, section string
		hintType      uint32
		functions     []string
	}{
		{"sock_filter", "socket", 1, []string{"sock_filter", "helper_sum", "scale"}},
		{"tail_one", "xdp", 6, []string{"tail_one"}},
		{"tail_two", "xdp", 6, []string{"tail_two"}},
		{"xdp_count", "xdp", 6, []string{"xdp_count", "helper_sum"}},
		{"xdp_loop", "xdp", 6, []string{"xdp_loop", "loop_step"}},
		{"xdp_route", "xdp", 6, []string{"xdp_route", "scale"}},
	}
	for _, obj := range []string{"prog.o", "prog-v4.o"} {
		t.Run(obj, func(t *testing.T) {
			spec := mustLoad(t, obj)
			if spec.License != "Dual MIT/GPL" {
				t.Errorf("License %q", spec.License)
			}
			if len(spec.Programs) != len(want) {
				t.Fatalf("%d programs, want %d", len(spec.Programs), len(want))
			}
			for i, w := range want {
				p := spec.Programs[i]
				if p.Name != w.name || p.Section != w.section || p.Hint.Type != w.hintType {
					t.Errorf("program %d: %s in %q (type %d), want %s in %q (type %d)", i, p.Name, p.Section, p.Hint.Type, w.name, w.section, w.hintType)
				}
				var names []string
				for _, f := range p.Functions {
					names = append(names, f.Name)
				}
				// The linker appends callees in an order of its own.
				if !slices.Equal(sortedCopy(names[1:]), sortedCopy(w.functions[1:])) || names[0] != w.functions[0] {
					t.Errorf("%s: functions %v, want %v", p.Name, names, w.functions)
				}
				if p.License != spec.License {
					t.Errorf("%s: License %q", p.Name, p.License)
				}
			}
		})
	}
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestValidate checks that every program, with its subprograms linked and
// its references in the package's convention, is well formed.
func TestValidate(t *testing.T) {
	for _, obj := range objects {
		spec := mustLoad(t, obj)
		for _, p := range spec.Programs {
			if err := isa.Validate(p.Instructions); err != nil {
				t.Errorf("%s: %s: %v", obj, p.Name, err)
			}
			if len(p.Lines) != len(p.Instructions) {
				t.Errorf("%s: %s: %d lines for %d slots", obj, p.Name, len(p.Lines), len(p.Instructions))
			}
		}
	}
}

// TestLocalCalls checks that every local call lands on the start of a
// linked function, and that .text functions called from two programs are
// linked into both.
func TestLocalCalls(t *testing.T) {
	for _, obj := range []string{"prog.o", "prog-v4.o"} {
		spec := mustLoad(t, obj)
		callees := map[string][]string{}
		for _, p := range spec.Programs {
			starts := map[int]string{}
			for _, f := range p.Functions {
				starts[f.Start] = f.Name
			}
			for pc, ins := range p.Instructions {
				target, ok := ins.BranchTarget(pc)
				switch {
				case ins.IsLocalCall():
				case ins.IsLoadImm64() && ins.Src == isa.PseudoFunc: // a callback's address
					target, ok = pc+1+int(ins.Imm), true
				default:
					continue
				}
				if !ok {
					continue
				}
				name, ok := starts[target]
				if !ok || target == 0 {
					t.Errorf("%s: %s: call at %d goes to %d, not a linked function", obj, p.Name, pc, target)
					continue
				}
				callees[p.Name] = append(callees[p.Name], name)
			}
		}
		want := map[string][]string{
			"sock_filter": {"helper_sum", "scale"},
			"xdp_count":   {"helper_sum"},
			"xdp_route":   {"scale"},
			"xdp_loop":    {"loop_step"},
		}
		for prog, names := range want {
			if got := sortedCopy(callees[prog]); !slices.Equal(got, names) {
				t.Errorf("%s: %s calls %v, want %v", obj, prog, got, names)
			}
		}
	}
}

func TestReferences(t *testing.T) {
	type ref struct {
		kind     RefKind
		name     string
		offset   uint32
		variable string
	}
	want := map[string][]ref{
		"xdp_count":   {{RefMap, "counts", 0, ""}, {RefMap, "counts", 0, ""}, {RefMapValue, ".data", 0, "packets"}, {RefMapValue, ".rodata", 0, "cfg_port"}},
		"xdp_route":   {{RefMap, "routes", 0, ""}, {RefMap, "per_cpu", 0, ""}, {RefMapValue, ".bss", 0, "dropped"}, {RefMap, "jmp_table", 0, ""}, {RefMapValue, ".rodata.str1.1", 0, ""}, {RefMapValue, ".rodata", 4, "cfg_mode"}},
		"tail_one":    {{RefMapValue, ".data.custom", 0, "custom_var"}},
		"tail_two":    {{RefMap, "outer", 0, ""}},
		"xdp_loop":    nil,
		"sock_filter": {{RefMap, "legacy_map", 0, ""}, {RefMap, "events", 0, ""}, {RefMapValue, ".rodata", 0, "cfg_port"}, {RefMapValue, ".rodata", 4, "cfg_mode"}},
	}
	for _, obj := range []string{"prog.o", "prog-v4.o"} {
		spec := mustLoad(t, obj)
		for _, p := range spec.Programs {
			var got []ref
			for _, r := range p.References {
				got = append(got, ref{r.Kind, r.Name, r.Offset, r.Variable})
				checkReference(t, spec, p, r)
			}
			if !reflect.DeepEqual(got, want[p.Name]) {
				t.Errorf("%s: %s: references\n%v\nwant\n%v", obj, p.Name, got, want[p.Name])
			}
			// No lddw other than the referenced ones may point at maps.
			refd := map[int]bool{}
			for _, r := range p.References {
				refd[r.Slot] = true
			}
			for pc, ins := range p.Instructions {
				if ins.IsLoadImm64() && ins.Src != isa.PseudoImm64 && ins.Src != isa.PseudoFunc && !refd[pc] {
					t.Errorf("%s: %s: lddw at %d with src %d has no reference", obj, p.Name, pc, ins.Src)
				}
			}
		}
	}
}

// checkReference checks that a reference points at a slot in the documented
// convention.
func checkReference(t *testing.T, spec *Spec, p *ProgramSpec, r Reference) {
	t.Helper()
	if r.Slot < 0 || r.Slot >= len(p.Instructions) {
		t.Errorf("%s: reference slot %d out of range", p.Name, r.Slot)
		return
	}
	ins := p.Instructions[r.Slot]
	switch r.Kind {
	case RefMap, RefMapValue:
		wantSrc := isa.PseudoMapIdx
		if r.Kind == RefMapValue {
			wantSrc = isa.PseudoMapIdxValue
		}
		if !ins.IsLoadImm64() || ins.Src != wantSrc {
			t.Errorf("%s: slot %d: %s reference on opcode %#x src %d", p.Name, r.Slot, r.Kind, ins.Opcode, ins.Src)
			return
		}
		if int(ins.Imm) != r.Map || r.Map < 0 || r.Map >= len(spec.Maps) || spec.Maps[r.Map].Name != r.Name {
			t.Errorf("%s: slot %d: imm %d, reference says map %d %q", p.Name, r.Slot, ins.Imm, r.Map, r.Name)
		}
		if uint32(p.Instructions[r.Slot+1].Imm) != r.Offset {
			t.Errorf("%s: slot %d: second imm %d, offset %d", p.Name, r.Slot, p.Instructions[r.Slot+1].Imm, r.Offset)
		}
	case RefKfunc:
		if !ins.IsCall() || ins.Src != isa.CallKfunc || ins.Imm != 0 || r.Map != -1 {
			t.Errorf("%s: slot %d: kfunc reference on %+v", p.Name, r.Slot, ins)
		}
	case RefKsym:
		if !ins.IsLoadImm64() || ins.Src != isa.PseudoBTFID || ins.Imm != 0 || r.Map != -1 {
			t.Errorf("%s: slot %d: ksym reference on %+v", p.Name, r.Slot, ins)
		}
	default:
		t.Errorf("%s: slot %d: unknown reference kind %d", p.Name, r.Slot, r.Kind)
	}
}

func TestExterns(t *testing.T) {
	spec := mustLoad(t, "extern.o")
	p := spec.Program("uses_externs")
	if p == nil {
		t.Fatal("no program uses_externs")
	}
	type ref struct {
		kind RefKind
		name string
	}
	var got []ref
	for _, r := range p.References {
		got = append(got, ref{r.Kind, r.Name})
		checkReference(t, spec, p, r)
	}
	want := []ref{{RefKsym, "bpf_prog_active"}, {RefKfunc, "bpf_rcu_read_lock"}, {RefKfunc, "bpf_rcu_read_unlock"}, {RefMapValue, ".kconfig"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("references %v, want %v", got, want)
	}
	m := spec.Map(".kconfig")
	if m == nil || m.Flags != FlagReadOnlyProg || m.ValueSize != 4 || len(m.Data) != 4 {
		t.Fatalf(".kconfig map %+v", m)
	}
	v := spec.Variable("LINUX_KERNEL_VERSION")
	if v == nil || v.Map != ".kconfig" || v.Size != 4 || !v.ReadOnly {
		t.Fatalf("LINUX_KERNEL_VERSION %+v", v)
	}
}

func TestLineInfo(t *testing.T) {
	tests := []struct {
		obj, prog, file, marker string
		// ref names a map the marked line's lddw references, if any.
		ref string
	}{
		{"prog.o", "xdp_count", "prog.c", "packets", ".data"},
		{"prog-v4.o", "xdp_count", "prog.c", "packets", ".data"},
		{"prog.o", "sock_filter", "prog.c", "sock_call", ""},
		{"core.o", "core_prog", "core.c", "core_b", ""},
	}
	for _, tt := range tests {
		t.Run(tt.obj+"/"+tt.marker, func(t *testing.T) {
			line, text := markerLine(t, tt.file, tt.marker)
			p := mustLoad(t, tt.obj).Program(tt.prog)
			var slots []int
			for pc, l := range p.Lines {
				if l.Line == uint32(line) {
					slots = append(slots, pc)
					if l.File != tt.file || strings.TrimSpace(l.Text) != strings.TrimSpace(text) {
						t.Errorf("slot %d: %q %q, want %q %q", pc, l.File, l.Text, tt.file, text)
					}
					if want := tt.file + ":" + strconv.Itoa(line); l.String() != want {
						t.Errorf("slot %d: String() %q, want %q", pc, l.String(), want)
					}
				}
			}
			if len(slots) == 0 {
				t.Fatalf("no slot has line %d", line)
			}
			if !p.Lines[slots[0]].Start {
				t.Errorf("first slot %d of line %d is not marked Start", slots[0], line)
			}
			if tt.ref != "" {
				found := false
				for _, r := range p.References {
					found = found || (r.Name == tt.ref && p.Line(r.Slot).Line == uint32(line))
				}
				if !found {
					t.Errorf("no reference to %s on line %d", tt.ref, line)
				}
			}
		})
	}

	// Every slot of every program has a line: clang emits one at each
	// function start.
	for _, obj := range objects {
		for _, p := range mustLoad(t, obj).Programs {
			for pc, l := range p.Lines {
				if !l.Known() {
					t.Errorf("%s: %s: slot %d has no line", obj, p.Name, pc)
					break
				}
			}
		}
	}
}

func TestFromCollectionSpec(t *testing.T) {
	for _, obj := range objects {
		t.Run(obj, func(t *testing.T) {
			path := filepath.Join("testdata", obj)
			cs, err := ebpf.LoadCollectionSpec(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := FromCollectionSpec(cs)
			if err != nil {
				t.Fatal(err)
			}
			want := mustLoad(t, obj)
			// The BTF specs are separate parses; compare the rest.
			got.types, want.types = nil, nil
			if !reflect.DeepEqual(got, want) {
				t.Error("FromCollectionSpec differs from Load")
			}
		})
	}

	// Values set through cilium/ebpf's VariableSpec carry over.
	cs, err := ebpf.LoadCollectionSpec("testdata/prog.o")
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Variables["cfg_port"].Set(uint32(443)); err != nil {
		t.Fatal(err)
	}
	spec, err := FromCollectionSpec(cs)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := spec.VariableValue("cfg_port"); !bytes.Equal(got, []byte{0xbb, 1, 0, 0}) {
		t.Errorf("cfg_port after VariableSpec.Set(443): % x", got)
	}

	if _, err := FromCollectionSpec(nil); !errors.Is(err, ErrInvalidObject) {
		t.Errorf("FromCollectionSpec(nil): %v", err)
	}
}

// TestISAv4 checks that the -mcpu=v4 object carries the v4 encodings
// (sign-extending loads, unconditional byte swaps) through the conversion,
// and the v3 one does not.
func TestISAv4(t *testing.T) {
	for _, tt := range []struct {
		obj  string
		want bool
	}{{"prog.o", false}, {"prog-v4.o", true}} {
		p := mustLoad(t, tt.obj).Program("sock_filter")
		var memsx, bswap bool
		for _, ins := range p.Instructions {
			op := ins.Opcode
			memsx = memsx || (op.Class() == isa.ClassLDX && op.Mode() == isa.ModeMEMSX)
			bswap = bswap || (op.Class() == isa.ClassALU64 && op.ALUOp() == isa.ALUEnd)
		}
		if memsx != tt.want || bswap != tt.want {
			t.Errorf("%s: sign-extending load %v, bswap %v, want %v", tt.obj, memsx, bswap, tt.want)
		}
	}
}

// Input that is not ELF, or is cut short, gets an error that says so: the
// bytes it starts with in hex, or "truncated".
func TestLoadNotELF(t *testing.T) {
	full, err := os.ReadFile("testdata/prog.o")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		in   []byte
		want string
	}{
		{"text", []byte("hello world"), "not an ELF file: it starts with 68 65 6c 6c"},
		{"empty", nil, "truncated"},
		{"magic only", []byte("\x7fELF"), "truncated ELF file"},
		{"cut", full[:300], "truncated ELF file"},
	} {
		_, err := LoadReader(bytes.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "[") {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}
