package platform

import (
	"fmt"
	"sort"
	"strings"
)

// Access is a set of access directions.
type Access uint8

// Access directions.
const (
	Read  Access = 1 << iota // loads
	Write                    // stores
)

// String returns "r", "w", "rw" or "-".
func (a Access) String() string {
	switch a {
	case Read:
		return "r"
	case Write:
		return "w"
	case Read | Write:
		return "rw"
	}
	return "-"
}

// SizeSet is a set of access widths in bytes (1, 2, 4 and 8).
type SizeSet uint8

// Access widths.
const (
	Size1 SizeSet = 1 << iota
	Size2
	Size4
	Size8

	// Narrow32 is what Linux accepts for loads of most u32 fields:
	// full-width or narrower power-of-two loads at aligned offsets.
	Narrow32 = Size1 | Size2 | Size4
	// AnySize allows every width.
	AnySize = Size1 | Size2 | Size4 | Size8
)

// Has reports whether an access of n bytes is in the set.
func (s SizeSet) Has(n int) bool {
	switch n {
	case 1:
		return s&Size1 != 0
	case 2:
		return s&Size2 != 0
	case 4:
		return s&Size4 != 0
	case 8:
		return s&Size8 != 0
	}
	return false
}

// Max returns the largest width in the set, or 0 for an empty set.
func (s SizeSet) Max() int {
	for _, n := range []int{8, 4, 2, 1} {
		if s.Has(n) {
			return n
		}
	}
	return 0
}

// String lists the widths, e.g. "1|2|4", or "-" for the empty set.
func (s SizeSet) String() string {
	var parts []string
	for _, n := range []int{1, 2, 4, 8} {
		if s.Has(n) {
			parts = append(parts, fmt.Sprint(n))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "|")
}

// FieldKind says what a loaded context field holds, so that the verifier can
// give the destination register the right abstract type.
type FieldKind uint8

// Field kinds.
const (
	// FieldScalar is a plain number.
	FieldScalar FieldKind = iota
	// FieldPacketData is the start of the directly accessible packet bytes.
	FieldPacketData
	// FieldPacketEnd is one past the last directly accessible packet byte.
	FieldPacketEnd
	// FieldPacketMeta is the start of the metadata area before the packet.
	FieldPacketMeta
	// FieldSocket is a non-NULL pointer to a socket (Target describes it).
	FieldSocket
	// FieldSocketOrNull is a socket pointer that may be NULL.
	FieldSocketOrNull
	// FieldSockCommonOrNull is a pointer to the common part of a socket
	// (Target describes which fields are readable), possibly NULL.
	FieldSockCommonOrNull
	// FieldFlowKeys is a pointer to struct bpf_flow_keys (Target).
	FieldFlowKeys
	// FieldTPBuffer is a pointer to a writable raw tracepoint buffer.
	FieldTPBuffer
	// FieldBTFPointer is a pointer to a kernel object typed by BTF
	// (ContextField.BTF); loads through it read 0 where nothing is mapped.
	FieldBTFPointer
	// FieldPadding reads as zero and exists only for compatibility.
	FieldPadding
)

var fieldKindNames = [...]string{
	FieldScalar:           "scalar",
	FieldPacketData:       "packet",
	FieldPacketEnd:        "packet_end",
	FieldPacketMeta:       "packet_meta",
	FieldSocket:           "socket",
	FieldSocketOrNull:     "socket_or_null",
	FieldSockCommonOrNull: "sock_common_or_null",
	FieldFlowKeys:         "flow_keys",
	FieldTPBuffer:         "tp_buffer",
	FieldBTFPointer:       "btf_pointer",
	FieldPadding:          "padding",
}

// String returns the kind's name.
func (k FieldKind) String() string {
	if int(k) < len(fieldKindNames) {
		return fieldKindNames[k]
	}
	return fmt.Sprintf("field_kind(%d)", uint8(k))
}

// IsPointer reports whether a field of this kind holds a pointer. Such fields
// are loaded only at full width.
func (k FieldKind) IsPointer() bool {
	return k != FieldScalar && k != FieldPadding
}

// IsPacketPointer reports whether the kind is one of the packet pointers.
func (k FieldKind) IsPacketPointer() bool {
	return k == FieldPacketData || k == FieldPacketEnd || k == FieldPacketMeta
}

// ContextField is one accessible range of a context structure.
//
// An access of n bytes at offset off is valid when off lies in the field,
// off is a multiple of n, n is in ReadSizes (loads) or WriteSizes (stores),
// and either the access ends inside the field or it is a full-width access of
// a slot: Slot > Size, off == Offset and n == Slot. Slots model Linux's
// 2-byte ports that programs may also read as 4-byte words.
type ContextField struct {
	Name   string // the C member name, e.g. "data" or "remote_ip6"
	Offset int    // byte offset in the Linux structure
	Size   int    // byte size of the C member
	Slot   int    // width of a full access when wider than Size; 0 means Size
	Kind   FieldKind
	Access Access
	// ReadSizes and WriteSizes are the widths Linux accepts for loads and
	// stores. Access must have Read (Write) exactly when ReadSizes
	// (WriteSizes) is not empty.
	ReadSizes  SizeSet
	WriteSizes SizeSet
	// Target describes what a pointer field points to, when that is a
	// structure the verifier can check accesses to (sockets, flow keys).
	Target *ContextDescriptor
	// BTF is what a FieldBTFPointer field points to (platform/btf.go);
	// a zero Type means unknown, and the pointer cannot be dereferenced.
	BTF BTFPointee
}

// End returns the offset just past the field, counting its slot.
func (f *ContextField) End() int {
	if f.Slot > f.Size {
		return f.Offset + f.Slot
	}
	return f.Offset + f.Size
}

func (f *ContextField) String() string {
	return fmt.Sprintf("%s@%d/%d %s %s r%s w%s", f.Name, f.Offset, f.Size, f.Kind, f.Access, f.ReadSizes, f.WriteSizes)
}

// ContextDescriptor describes the structure that r1 points to at program
// entry (or that a pointer field points to): its Linux layout, which byte
// ranges a program may load or store with which widths, what the loaded
// values are, and, for program types bpfhost runs itself, the host layout.
type ContextDescriptor struct {
	// Name is the C structure name without "struct", e.g. "xdp_md".
	Name string
	// CType is the C type to check offsets against ("struct xdp_md"), or
	// empty when the layout has no C declaration in the UAPI headers.
	CType string
	// Size is the Linux structure size; no access may reach past it.
	Size int
	// Fields are sorted by Offset and do not overlap.
	Fields []ContextField
	// Host is the layout the runtime fills, or nil when bpfhost cannot run
	// programs with this context (see HostLayout).
	Host *HostLayout
	// Doc says where the layout comes from and what is approximate.
	Doc string
	// ArgSlots says every access must start at a multiple of 8: the
	// context is an array of u64 arguments, each read from its start
	// (btf_ctx_access), at any width for numbers.
	ArgSlots bool
}

// Field returns the field whose bytes contain offset off.
func (d *ContextDescriptor) Field(off int) (*ContextField, bool) {
	i := sort.Search(len(d.Fields), func(i int) bool { return d.Fields[i].Offset+d.Fields[i].Size > off })
	if i < len(d.Fields) && d.Fields[i].Offset <= off {
		return &d.Fields[i], true
	}
	return nil, false
}

// FieldByName returns the field with the given name.
func (d *ContextDescriptor) FieldByName(name string) (*ContextField, bool) {
	for i := range d.Fields {
		if d.Fields[i].Name == name {
			return &d.Fields[i], true
		}
	}
	return nil, false
}

// Check reports whether a load (write false) or store (write true) of size
// bytes at offset off is allowed, and returns the field it touches. Errors
// wrap ErrContextAccess. Check knows nothing of instruction forms: Linux also
// rejects stores of immediates (BPF_ST) and atomic operations on the context
// whatever the field, and the verifier applies that rule itself.
func (d *ContextDescriptor) Check(off, size int, write bool) (*ContextField, error) {
	dir := "read"
	if write {
		dir = "write"
	}
	fail := func(format string, args ...any) (*ContextField, error) {
		return nil, fmt.Errorf("%w: %s: %d-byte %s at offset %d: %s", ErrContextAccess, d.Name, size, dir, off, fmt.Sprintf(format, args...))
	}
	switch {
	case size != 1 && size != 2 && size != 4 && size != 8:
		return fail("bad access size")
	case off < 0 || off+size > d.Size:
		return fail("outside the %d-byte context", d.Size)
	case off%size != 0:
		return fail("misaligned")
	case d.ArgSlots && off%8 != 0:
		return fail("offset %d is not a multiple of 8: each argument is read from its start", off)
	}
	f, ok := d.Field(off)
	if !ok {
		return fail("no accessible field there")
	}
	sizes, need := f.ReadSizes, Read
	if write {
		sizes, need = f.WriteSizes, Write
	}
	if f.Access&need == 0 {
		return fail("field %s is not %sable", f.Name, map[bool]string{false: "read", true: "writ"}[write])
	}
	if !sizes.Has(size) {
		return fail("field %s allows %s-byte %ss", f.Name, sizes, dir)
	}
	if off+size > f.Offset+f.Size && !(f.Slot > f.Size && off == f.Offset && size == f.Slot) {
		return fail("access crosses the end of field %s", f.Name)
	}
	return f, nil
}

// Validate checks the descriptor's own consistency: fields sorted, inside
// Size, not overlapping, access bits matching the size sets, pointer fields
// accessed only at full width, and the host layout (if any) covering every
// field at a usable width. Errors wrap ErrInvalidDescriptor.
func (d *ContextDescriptor) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: context %s: %s", ErrInvalidDescriptor, d.Name, fmt.Sprintf(format, args...))
	}
	if d.Size <= 0 {
		return bad("size %d", d.Size)
	}
	seen := map[string]bool{}
	prevEnd := 0
	for i := range d.Fields {
		f := &d.Fields[i]
		switch {
		case f.Name == "":
			return bad("field %d has no name", i)
		case seen[f.Name]:
			return bad("field %s appears twice", f.Name)
		case f.Size <= 0:
			return bad("field %s: size %d", f.Name, f.Size)
		case f.Offset < prevEnd:
			return bad("field %s at %d overlaps the previous field (ends at %d) or is out of order", f.Name, f.Offset, prevEnd)
		case f.End() > d.Size:
			return bad("field %s ends at %d, past the size %d", f.Name, f.End(), d.Size)
		case (f.Access&Read != 0) != (f.ReadSizes != 0):
			return bad("field %s: access %s but read sizes %s", f.Name, f.Access, f.ReadSizes)
		case (f.Access&Write != 0) != (f.WriteSizes != 0):
			return bad("field %s: access %s but write sizes %s", f.Name, f.Access, f.WriteSizes)
		case f.Access == 0:
			return bad("field %s is neither readable nor writable; leave it out instead", f.Name)
		case f.Slot != 0 && f.Slot <= f.Size:
			return bad("field %s: slot %d not wider than size %d", f.Name, f.Slot, f.Size)
		}
		if f.Kind.IsPointer() && (f.ReadSizes != sizeSetOf(f.Size) || f.WriteSizes != 0) {
			return bad("pointer field %s must be read-only at its full width %d", f.Name, f.Size)
		}
		for _, n := range []int{1, 2, 4, 8} {
			if (f.ReadSizes | f.WriteSizes).Has(n) && n > f.Size && n != f.Slot {
				return bad("field %s: %d-byte accesses do not fit its %d bytes", f.Name, n, f.Size)
			}
		}
		seen[f.Name] = true
		prevEnd = f.Offset + f.Size
	}
	if d.Host != nil {
		if err := d.Host.validateFor(d); err != nil {
			return bad("%v", err)
		}
	}
	return nil
}

func sizeSetOf(n int) SizeSet {
	switch n {
	case 1:
		return Size1
	case 2:
		return Size2
	case 4:
		return Size4
	case 8:
		return Size8
	}
	return 0
}
