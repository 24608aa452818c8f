package bpfhost

import (
	"bytes"
	"encoding"
	"encoding/binary"
	"fmt"
	"reflect"
)

// marshal encodes a key or value of a map for the map's size: []byte and
// string as they are, encoding.BinaryMarshaler, or any fixed-size value
// encoding/binary accepts (integers, arrays and structs of them, pointers
// to them, slices of them), in the host's byte order, which is the byte
// order programs see. Values it cannot encode are errors, never panics.
func marshal(v any, size int) ([]byte, error) {
	var b []byte
	switch x := v.(type) {
	case nil:
		if size == 0 {
			return nil, nil
		}
		return nil, fmt.Errorf("nil, want %d bytes", size)
	case []byte:
		b = x
	case string:
		b = []byte(x)
	case encoding.BinaryMarshaler:
		if isNilPointer(v) {
			return nil, fmt.Errorf("nil %T", v)
		}
		var err error
		if b, err = x.MarshalBinary(); err != nil {
			return nil, err
		}
	default:
		if err := checkBinary(v, false); err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := binary.Write(&buf, binary.NativeEndian, v); err != nil {
			return nil, fmt.Errorf("cannot encode %T: %w", v, err)
		}
		b = buf.Bytes()
	}
	if len(b) != size {
		switch v.(type) {
		case []byte, string:
			return nil, fmt.Errorf("%d bytes, want %d", len(b), size)
		}
		return nil, fmt.Errorf("%T is %d bytes, want %d", v, len(b), size)
	}
	return b, nil
}

// unmarshal decodes b into out: *[]byte (replaced), []byte (filled; must be
// large enough), *string, encoding.BinaryUnmarshaler, a pointer to a
// fixed-size value, or a slice of fixed-size values (filled; its size must
// be len(b), as cilium/ebpf decodes into slices).
func unmarshal(b []byte, out any) error {
	if out != nil && isNilPointer(out) {
		return fmt.Errorf("cannot decode into a nil %T", out)
	}
	switch x := out.(type) {
	case nil:
		return nil
	case *[]byte:
		*x = append((*x)[:0], b...)
		return nil
	case []byte:
		if len(x) < len(b) {
			return fmt.Errorf("buffer of %d bytes, want %d", len(x), len(b))
		}
		copy(x, b)
		return nil
	case *string:
		*x = string(b)
		return nil
	case encoding.BinaryUnmarshaler:
		return x.UnmarshalBinary(b)
	}
	if k := reflect.ValueOf(out).Kind(); k != reflect.Pointer && k != reflect.Slice {
		return fmt.Errorf("cannot decode into %T: want a pointer or a slice", out)
	}
	if err := checkBinary(out, true); err != nil {
		return err
	}
	if n := binary.Size(out); n != len(b) {
		return fmt.Errorf("cannot decode %d bytes into %T (%d bytes)", len(b), out, n)
	}
	return binary.Read(bytes.NewReader(b), binary.NativeEndian, out)
}

// isNilPointer reports whether v is a nil pointer of some type.
func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// checkBinary refuses what encoding/binary would panic on rather than
// report: nil pointers (at the top or below a pointer to a slice) and, when
// decoding, structs with unexported fields other than "_" (binary.Read
// cannot set them).
func checkBinary(v any, decode bool) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return fmt.Errorf("nil %T", v)
		}
		rv = rv.Elem()
	}
	if binary.Size(v) < 0 {
		return fmt.Errorf("cannot encode %T: not a fixed-size value", v)
	}
	if decode {
		if f := unexportedField(rv.Type()); f != "" {
			return fmt.Errorf("cannot decode into %T: unexported field %s", v, f)
		}
	}
	return nil
}

// unexportedField names an unexported field (other than "_") of t or of the
// structs and arrays it holds, or returns "".
func unexportedField(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Array, reflect.Slice:
		return unexportedField(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Name != "_" && !f.IsExported() {
				return t.String() + "." + f.Name
			}
			if s := unexportedField(f.Type); s != "" {
				return s
			}
		}
	}
	return ""
}

// marshalPerCPU encodes a per-CPU value: a slice with at most one element
// per slot (the slots it does not reach are zero, as cilium/ebpf fills the
// possible CPUs a slice does not reach), or []byte already laid out as
// slots values each padded to 8 bytes.
func marshalPerCPU(v any, size, slots int) ([]byte, error) {
	stride := (size + 7) &^ 7
	if b, ok := v.([]byte); ok {
		if len(b) != stride*slots {
			return nil, fmt.Errorf("per-CPU value of %d bytes, want %d (%d slots of %d)", len(b), stride*slots, slots, stride)
		}
		return b, nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return nil, fmt.Errorf("per-CPU value %T: want a slice with one element per slot", v)
	}
	if rv.Len() > slots {
		return nil, fmt.Errorf("per-CPU value has %d elements, want at most %d (one per slot)", rv.Len(), slots)
	}
	out := make([]byte, stride*slots)
	for i := 0; i < rv.Len(); i++ {
		e, err := marshal(rv.Index(i).Interface(), size)
		if err != nil {
			return nil, fmt.Errorf("slot %d: %w", i, err)
		}
		copy(out[i*stride:], e)
	}
	return out, nil
}

// unmarshalPerCPU decodes a per-CPU value into *[]T or *[]*T (replaced by
// one element per slot), a []T or []*T of exactly one element per slot
// (filled, as cilium/ebpf does), *[][]byte, or *[]byte (raw layout).
func unmarshalPerCPU(b []byte, out any, size, slots int) error {
	stride := (size + 7) &^ 7
	if isNilPointer(out) {
		return fmt.Errorf("per-CPU value: cannot decode into a nil %T", out)
	}
	switch x := out.(type) {
	case *[]byte:
		*x = append((*x)[:0], b...)
		return nil
	case *[][]byte:
		*x = (*x)[:0]
		for i := 0; i < slots; i++ {
			*x = append(*x, append([]byte(nil), b[i*stride:i*stride+size]...))
		}
		return nil
	}
	rv := reflect.ValueOf(out)
	var s reflect.Value
	switch {
	case rv.Kind() == reflect.Slice:
		if rv.Len() != slots {
			return fmt.Errorf("per-CPU value: %T has %d elements, want %d (one per slot)", out, rv.Len(), slots)
		}
		s = rv
	case rv.Kind() == reflect.Pointer && rv.Elem().Kind() == reflect.Slice:
		s = reflect.MakeSlice(rv.Elem().Type(), slots, slots)
	default:
		return fmt.Errorf("per-CPU value: cannot decode into %T, want a slice or a pointer to a slice", out)
	}
	ptrs := s.Type().Elem().Kind() == reflect.Pointer
	for i := 0; i < slots; i++ {
		e := s.Index(i)
		if ptrs {
			if e.IsNil() {
				if s != rv {
					e.Set(reflect.New(e.Type().Elem()))
				} else {
					return fmt.Errorf("slot %d: nil %s", i, e.Type())
				}
			}
		} else {
			e = e.Addr()
		}
		if err := unmarshal(b[i*stride:i*stride+size], e.Interface()); err != nil {
			return fmt.Errorf("slot %d: %w", i, err)
		}
	}
	if s != rv {
		rv.Elem().Set(s)
	}
	return nil
}
