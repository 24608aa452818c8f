package object

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func TestVariables(t *testing.T) {
	want := []VariableSpec{
		{Name: "cfg_mode", Map: ".rodata", Offset: 4, Size: 1, ReadOnly: true, Type: "const volatile __u8"},
		{Name: "cfg_port", Map: ".rodata", Offset: 0, Size: 4, ReadOnly: true, Type: "const volatile __u32"},
		{Name: "custom_var", Map: ".data.custom", Offset: 0, Size: 4, Type: "__u32"},
		{Name: "dropped", Map: ".bss", Offset: 0, Size: 8, Type: "__u64"},
		{Name: "packets", Map: ".data", Offset: 0, Size: 8, Type: "__u64"},
	}
	spec := mustLoad(t, "prog.o")
	var got []VariableSpec
	for _, v := range spec.Variables {
		got = append(got, *v)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("variables\n%+v\nwant\n%+v", got, want)
	}
	if v, err := spec.VariableValue("packets"); err != nil || !bytes.Equal(v, []byte{1, 0, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("VariableValue(packets) = % x, %v", v, err)
	}
	if _, err := spec.VariableValue("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("VariableValue(nope): %v", err)
	}
}

func TestSetConstant(t *testing.T) {
	type point struct{ X, Y uint16 }
	tests := []struct {
		name     string
		variable string
		value    any
		set      func(*Spec, string, any) error
		want     []byte // the .rodata bytes after, if no error
		err      error
	}{
		{"uint32", "cfg_port", uint32(8080), (*Spec).SetConstant, []byte{0x90, 0x1f, 0, 0, 2}, nil},
		{"bytes", "cfg_port", []byte{1, 2, 3, 4}, (*Spec).SetConstant, []byte{1, 2, 3, 4, 2}, nil},
		{"struct", "cfg_port", point{1, 2}, (*Spec).SetConstant, []byte{1, 0, 2, 0, 2}, nil},
		{"uint8", "cfg_mode", uint8(9), (*Spec).SetConstant, []byte{80, 0, 0, 0, 9}, nil},
		{"bool", "cfg_mode", true, (*Spec).SetConstant, []byte{80, 0, 0, 0, 1}, nil},
		{"too small", "cfg_port", uint16(1), (*Spec).SetConstant, nil, ErrSizeMismatch},
		{"too large", "cfg_mode", uint64(1), (*Spec).SetConstant, nil, ErrSizeMismatch},
		{"unknown", "cfg_nope", uint32(1), (*Spec).SetConstant, nil, ErrNotFound},
		{"not constant", "packets", uint64(1), (*Spec).SetConstant, nil, ErrNotConstant},
		{"unsized", "cfg_port", 5, (*Spec).SetConstant, nil, nil},
		{"variable", "cfg_port", uint32(1), (*Spec).SetVariable, []byte{1, 0, 0, 0, 2}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := mustLoad(t, "prog.o")
			err := tt.set(spec, tt.variable, tt.value)
			switch {
			case tt.want == nil && err == nil:
				t.Fatalf("no error, want %v", tt.err)
			case tt.want == nil && tt.err != nil && !errors.Is(err, tt.err):
				t.Fatalf("error %v, want %v", err, tt.err)
			case tt.want != nil && err != nil:
				t.Fatal(err)
			}
			if err != nil {
				if !bytes.Equal(spec.Map(".rodata").Data, []byte{80, 0, 0, 0, 2}) {
					t.Errorf("failed call changed .rodata to % x", spec.Map(".rodata").Data)
				}
				return
			}
			if got := spec.Map(".rodata").Data; !bytes.Equal(got, tt.want) {
				t.Errorf(".rodata is % x, want % x", got, tt.want)
			}
		})
	}

	spec := mustLoad(t, "prog.o")
	if err := spec.SetVariable("packets", uint64(0x0102)); err != nil {
		t.Fatal(err)
	}
	if got := spec.Map(".data").Data; !bytes.Equal(got, []byte{2, 1, 0, 0, 0, 0, 0, 0}) {
		t.Errorf(".data after SetVariable: % x", got)
	}
	err := spec.SetConstant("cfg_port", uint16(1))
	if want := `object: variable "cfg_port" (const volatile __u32) is 4 bytes, value is 2 bytes: size mismatch`; err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}
