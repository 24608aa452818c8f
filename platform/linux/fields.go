package linux

import "github.com/bpfhost/bpfhost/platform"

// Shorthands for the context tables. They only build values; consistency is
// checked by platform.ContextDescriptor.Validate when the ABI is built.

const (
	s1   = platform.Size1
	s2   = platform.Size2
	s4   = platform.Size4
	s8   = platform.Size8
	n32  = platform.Narrow32 // narrow loads of a u32 field
	any8 = platform.AnySize
	none = platform.SizeSet(0)
)

// field builds a scalar field readable with rd and writable with wr.
func field(name string, off, size int, rd, wr platform.SizeSet) platform.ContextField {
	var a platform.Access
	if rd != 0 {
		a |= platform.Read
	}
	if wr != 0 {
		a |= platform.Write
	}
	return platform.ContextField{Name: name, Offset: off, Size: size, Access: a, ReadSizes: rd, WriteSizes: wr}
}

// ro builds a read-only scalar field.
func ro(name string, off, size int, rd platform.SizeSet) platform.ContextField {
	return field(name, off, size, rd, none)
}

// ptr builds a read-only pointer field, loadable only at its full width.
func ptr(name string, off, size int, kind platform.FieldKind, target *platform.ContextDescriptor) platform.ContextField {
	f := ro(name, off, size, sizeBits(size))
	f.Kind = kind
	f.Target = target
	return f
}

// slot builds a field of size bytes that a full-width access may read as a
// wider slot (a __be16 port followed by padding, read as a u32).
func slot(name string, off, size, width int, rd platform.SizeSet) platform.ContextField {
	f := ro(name, off, size, rd)
	f.Slot = width
	return f
}

func sizeBits(n int) platform.SizeSet {
	switch n {
	case 1:
		return s1
	case 2:
		return s2
	case 4:
		return s4
	}
	return s8
}

// hostField is a host location.
func hostField(name string, off, size int) platform.HostField {
	return platform.HostField{Name: name, Offset: off, Size: size}
}

// identityHost returns a host layout identical to the Linux one, for
// contexts without 32-bit pointer fields.
func identityHost(goName string, size int, fields []platform.ContextField) *platform.HostLayout {
	h := &platform.HostLayout{Name: goName, Size: size}
	for _, f := range fields {
		h.Fields = append(h.Fields, hostField(f.Name, f.Offset, f.End()-f.Offset))
	}
	return h
}
