package platform

import (
	"errors"
	"strings"
	"testing"
)

// testCtx is a small context with one of each interesting field shape.
func testCtx() *ContextDescriptor {
	return &ContextDescriptor{
		Name: "test_ctx",
		Size: 40,
		Fields: []ContextField{
			{Name: "data", Offset: 0, Size: 4, Kind: FieldPacketData, Access: Read, ReadSizes: Size4},
			{Name: "data_end", Offset: 4, Size: 4, Kind: FieldPacketEnd, Access: Read, ReadSizes: Size4},
			{Name: "mark", Offset: 8, Size: 4, Access: Read | Write, ReadSizes: Narrow32, WriteSizes: Size4},
			{Name: "cb", Offset: 12, Size: 18, Access: Read | Write, ReadSizes: AnySize, WriteSizes: AnySize},
			{Name: "flags", Offset: 30, Size: 2, Access: Read, ReadSizes: Size1 | Size2},
			{Name: "port", Offset: 32, Size: 2, Slot: 4, Access: Read, ReadSizes: Size1 | Size2 | Size4},
			// 34..36 is a hole.
			{Name: "ifindex", Offset: 36, Size: 4, Access: Read, ReadSizes: Size4},
		},
	}
}

func TestCheck(t *testing.T) {
	d := testCtx()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		off, size int
		write     bool
		field     string // "" = rejected
		why       string
	}{
		{0, 4, false, "data", ""},
		{0, 8, false, "", "allows 4-byte"},
		{0, 2, false, "", "allows 4-byte"},
		{2, 2, false, "", "allows 4-byte"},
		{0, 4, true, "", "not writable"},
		{4, 4, false, "data_end", ""},
		{8, 4, false, "mark", ""},
		{8, 1, false, "mark", ""},
		{9, 1, false, "mark", ""},
		{10, 2, false, "mark", ""},
		{9, 2, false, "", "misaligned"},
		{8, 4, true, "mark", ""},
		{8, 2, true, "", "allows 4-byte write"},
		{8, 8, false, "", "allows 1|2|4-byte"},
		{20, 8, false, "", "misaligned"},
		{12, 4, true, "cb", ""},
		{16, 8, false, "cb", ""},
		{16, 8, true, "cb", ""},
		{24, 8, false, "", "crosses"},
		{28, 4, false, "", "crosses"},
		{28, 2, true, "cb", ""},
		{30, 2, false, "flags", ""},
		{31, 1, true, "", "not writable"},
		{32, 4, false, "port", ""},
		{32, 2, false, "port", ""},
		{33, 1, false, "port", ""},
		{34, 2, false, "", "no accessible field"},
		{32, 8, false, "", "allows 1|2|4-byte"},
		{36, 4, false, "ifindex", ""},
		{40, 4, false, "", "outside"},
		{-4, 4, false, "", "outside"},
		{36, 3, false, "", "bad access size"},
		{38, 2, false, "", "allows 4-byte"},
	}
	for _, tt := range tests {
		f, err := d.Check(tt.off, tt.size, tt.write)
		switch {
		case tt.field == "" && err == nil:
			t.Errorf("Check(%d, %d, %v) accepted field %s, want rejection", tt.off, tt.size, tt.write, f.Name)
		case tt.field == "" && !errors.Is(err, ErrContextAccess):
			t.Errorf("Check(%d, %d, %v) = %v, want ErrContextAccess", tt.off, tt.size, tt.write, err)
		case tt.field == "" && !strings.Contains(err.Error(), tt.why):
			t.Errorf("Check(%d, %d, %v) = %v, want it to say %q", tt.off, tt.size, tt.write, err, tt.why)
		case tt.field != "" && err != nil:
			t.Errorf("Check(%d, %d, %v) = %v, want field %s", tt.off, tt.size, tt.write, err, tt.field)
		case tt.field != "" && f.Name != tt.field:
			t.Errorf("Check(%d, %d, %v) = field %s, want %s", tt.off, tt.size, tt.write, f.Name, tt.field)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name   string
		modify func(d *ContextDescriptor)
		want   string
	}{
		{"overlap", func(d *ContextDescriptor) { d.Fields[1].Offset = 2 }, "overlaps"},
		{"out of order", func(d *ContextDescriptor) { d.Fields[0], d.Fields[1] = d.Fields[1], d.Fields[0] }, "overlaps"},
		{"past size", func(d *ContextDescriptor) { d.Size = 38 }, "past the size"},
		{"duplicate", func(d *ContextDescriptor) { d.Fields[1].Name = "data" }, "twice"},
		{"access without sizes", func(d *ContextDescriptor) { d.Fields[2].WriteSizes = 0 }, "write sizes"},
		{"sizes without access", func(d *ContextDescriptor) { d.Fields[6].WriteSizes = Size4 }, "write sizes"},
		{"narrow pointer", func(d *ContextDescriptor) { d.Fields[0].ReadSizes = Narrow32 }, "full width"},
		{"writable pointer", func(d *ContextDescriptor) {
			d.Fields[0].Access |= Write
			d.Fields[0].WriteSizes = Size4
		}, "read-only"},
		{"too wide", func(d *ContextDescriptor) { d.Fields[2].ReadSizes = AnySize }, "do not fit"},
		{"bad slot", func(d *ContextDescriptor) { d.Fields[5].Slot = 2 }, "slot"},
		{"no access", func(d *ContextDescriptor) {
			d.Fields[6].Access, d.Fields[6].ReadSizes = 0, 0
		}, "neither"},
		{"host missing field", func(d *ContextDescriptor) {
			d.Host = &HostLayout{Name: "h", Size: 8, Fields: []HostField{{Name: "data", Offset: 0, Size: 8}}}
		}, "no field data_end"},
	}
	for _, tt := range tests {
		d := testCtx()
		tt.modify(d)
		err := d.Validate()
		if !errors.Is(err, ErrInvalidDescriptor) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate() = %v, want ErrInvalidDescriptor mentioning %q", tt.name, err, tt.want)
		}
	}
}

func TestSizeSet(t *testing.T) {
	if got := Narrow32.String(); got != "1|2|4" {
		t.Errorf("Narrow32 = %q", got)
	}
	if SizeSet(0).String() != "-" || SizeSet(0).Max() != 0 {
		t.Error("empty set")
	}
	if !AnySize.Has(8) || Narrow32.Has(8) || Narrow32.Has(3) || AnySize.Max() != 8 {
		t.Error("Has/Max")
	}
	if (Read|Write).String() != "rw" || Access(0).String() != "-" {
		t.Error("Access.String")
	}
}
