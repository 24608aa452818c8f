package bpfhost

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"testing"
)

// TestTextFunctionsAsPrograms checks that the functions of .text become
// programs of their own that a type makes verifiable, with their source
// lines, and that the programs of named sections stay as they were.
func TestTextFunctionsAsPrograms(t *testing.T) {
	plain, err := LoadCollectionSpec("testdata/types/textonly.o")
	if err != nil {
		t.Fatal(err)
	}
	if len(plain.Programs) != 0 {
		t.Fatalf("textonly.o has %d programs without functions, want 0", len(plain.Programs))
	}
	spec, err := LoadCollectionSpecWithFunctions("testdata/types/textonly.o")
	if err != nil {
		t.Fatal(err)
	}
	p := spec.Program("text_len")
	if p == nil || p.Section != TextSection || !p.Line(0).Known() {
		t.Fatalf("text_len: %+v", p)
	}
	if _, _, err := ProgramType(p, nil); !errors.Is(err, ErrNoProgramType) {
		t.Errorf("a .text function without a type: %v, want ErrNoProgramType", err)
	}
	coll, err := NewCollection(spec, &CollectionOptions{Engine: "interp", ProgramTypes: map[string]string{"text_len": "xdp"}})
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	ret, err := coll.Programs["text_len"].Run(&RunOptions{Data: []byte{0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}})
	if err != nil || ret != 1 { // XDP_DROP
		t.Errorf("text_len on 0xff...: %d, %v; want 1 (XDP_DROP)", ret, err)
	}

	plain, err = LoadCollectionSpec("testdata/agreement/loops.o")
	if err != nil {
		t.Fatal(err)
	}
	spec, err = LoadCollectionSpecWithFunctions("testdata/agreement/loops.o")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"mix", "mix3", "step"} {
		if p := spec.Program(name); p == nil || p.Section != TextSection {
			t.Errorf("%s: %+v, want a program in .text", name, p)
		}
	}
	a, b := plain.Program("xdp_loops"), spec.Program("xdp_loops")
	if b == nil || !slices.Equal(a.Instructions, b.Instructions) || !slices.Equal(a.Lines, b.Lines) || !slices.Equal(a.Functions, b.Functions) {
		t.Errorf("xdp_loops differs when .text functions are programs too")
	}
}

// TestTextFunctionsBadInput checks that malformed input gives an error.
func TestTextFunctionsBadInput(t *testing.T) {
	good, err := os.ReadFile("testdata/types/textonly.o")
	if err != nil {
		t.Fatal(err)
	}
	inputs := [][]byte{nil, []byte("not an ELF file"), good[:64], good[:len(good)/2]}
	for i, in := range inputs {
		if _, err := loadWithFunctions(bytes.NewReader(in)); err == nil {
			t.Errorf("input %d (%d bytes): no error", i, len(in))
		}
	}
	// Every single-byte corruption of the headers either loads or fails
	// with an error, never a panic.
	for i := 0; i < 64; i++ {
		bad := bytes.Clone(good)
		bad[i] ^= 0xff
		_, _ = loadWithFunctions(bytes.NewReader(bad))
	}
}
