package platform

import "fmt"

// HostLayout is where bpfhost keeps a context's fields in memory it fills
// itself (decision #1 of DESIGN.md). Programs are compiled against Linux's
// layout, in which packet pointers are 32-bit fields; a host address needs 64
// bits, so after verification every context access is rewritten to the host
// layout (see Rewrite). Scalar fields keep their width; packet pointer fields
// widen from 4 to 8 bytes.
//
// Host layouts assume a little-endian host (amd64, arm64), as Linux's narrow
// loads do on those machines: the k-th byte of a field is at its host offset
// plus k.
type HostLayout struct {
	// Name is the Go type the runtime fills, e.g. "linux.XDPContext".
	Name string
	// Size is the host structure size in bytes.
	Size int
	// Fields maps context field names to host locations. A layout may be
	// shared by several descriptors (the __sk_buff variants of different
	// program types) and so may list more fields than one descriptor has.
	Fields []HostField
}

// HostField is the host location of one context field.
type HostField struct {
	Name   string // the ContextField name
	Offset int    // byte offset in the host structure
	Size   int    // host width: the field's width, its slot, or 8 for a widened pointer
}

// Field returns the host location of the named context field.
func (h *HostLayout) Field(name string) (*HostField, bool) {
	for i := range h.Fields {
		if h.Fields[i].Name == name {
			return &h.Fields[i], true
		}
	}
	return nil, false
}

func (h *HostLayout) validateFor(d *ContextDescriptor) error {
	if h.Size <= 0 || h.Size > 1<<15 {
		return fmt.Errorf("host layout %s: size %d (offsets must fit an instruction's 16-bit offset)", h.Name, h.Size)
	}
	for i := range h.Fields {
		hf := &h.Fields[i]
		if hf.Offset < 0 || hf.Size <= 0 || hf.Offset+hf.Size > h.Size {
			return fmt.Errorf("host layout %s: field %s at %d/%d is outside the %d bytes", h.Name, hf.Name, hf.Offset, hf.Size, h.Size)
		}
		for j := range h.Fields[:i] {
			o := &h.Fields[j]
			if hf.Offset < o.Offset+o.Size && o.Offset < hf.Offset+hf.Size {
				return fmt.Errorf("host layout %s: fields %s and %s overlap", h.Name, o.Name, hf.Name)
			}
		}
	}
	for i := range d.Fields {
		f := &d.Fields[i]
		hf, ok := h.Field(f.Name)
		if !ok {
			return fmt.Errorf("host layout %s has no field %s", h.Name, f.Name)
		}
		// Aligned Linux accesses must stay aligned on the host: same-width
		// fields keep their alignment modulo the widest access, widened
		// pointers are 8-byte aligned.
		width := f.End() - f.Offset
		widest := (f.ReadSizes | f.WriteSizes).Max()
		switch {
		case hf.Size == width:
			if (hf.Offset-f.Offset)%widest != 0 {
				return fmt.Errorf("host layout %s: field %s moves from %d to %d, misaligning %d-byte accesses", h.Name, f.Name, f.Offset, hf.Offset, widest)
			}
		case f.Kind.IsPointer() && f.Size == 4 && hf.Size == 8:
			if hf.Offset%8 != 0 {
				return fmt.Errorf("host layout %s: widened pointer %s at %d is not 8-byte aligned", h.Name, f.Name, hf.Offset)
			}
		default:
			return fmt.Errorf("host layout %s: field %s is %d bytes, host keeps %d", h.Name, f.Name, width, hf.Size)
		}
	}
	return nil
}

// HostAccess maps a context access, already accepted by Check, to the host
// layout: it returns the host offset and access width to use instead. A
// 4-byte load of a packet pointer becomes an 8-byte load; every other access
// keeps its width and moves by the field's displacement. Errors wrap
// ErrNotHosted or ErrContextAccess.
func (d *ContextDescriptor) HostAccess(off, size int, write bool) (hostOff, hostSize int, err error) {
	if d.Host == nil {
		return 0, 0, fmt.Errorf("%w: context %s", ErrNotHosted, d.Name)
	}
	f, err := d.Check(off, size, write)
	if err != nil {
		return 0, 0, err
	}
	hf, ok := d.Host.Field(f.Name)
	if !ok {
		return 0, 0, fmt.Errorf("%w: context %s: host layout %s has no field %s", ErrNotHosted, d.Name, d.Host.Name, f.Name)
	}
	if f.Kind.IsPointer() && hf.Size != f.Size {
		// Check accepted only the full width, so this is the whole pointer.
		return hf.Offset, hf.Size, nil
	}
	return hf.Offset + off - f.Offset, size, nil
}
