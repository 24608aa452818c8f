package bpfhost

import (
	"bytes"
	"encoding"
	"encoding/binary"
	"fmt"
	"reflect"
)

// marshal encodes a key or value of a map for the map's size: []byte as is,
// encoding.BinaryMarshaler, or any fixed-size value encoding/binary accepts
// (integers, arrays and structs of them), in the host's byte order, which is
// the byte order programs see.
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
	case encoding.BinaryMarshaler:
		var err error
		if b, err = x.MarshalBinary(); err != nil {
			return nil, err
		}
	default:
		var buf bytes.Buffer
		if err := binary.Write(&buf, binary.NativeEndian, v); err != nil {
			return nil, fmt.Errorf("cannot encode %T: %w", v, err)
		}
		b = buf.Bytes()
	}
	if len(b) != size {
		if _, raw := v.([]byte); raw {
			return nil, fmt.Errorf("%d bytes, want %d", len(b), size)
		}
		return nil, fmt.Errorf("%T is %d bytes, want %d", v, len(b), size)
	}
	return b, nil
}

// unmarshal decodes b into out: *[]byte (replaced), []byte (filled; must be
// large enough), encoding.BinaryUnmarshaler, or a pointer to a fixed-size
// value.
func unmarshal(b []byte, out any) error {
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
	case encoding.BinaryUnmarshaler:
		return x.UnmarshalBinary(b)
	}
	if reflect.ValueOf(out).Kind() != reflect.Pointer {
		return fmt.Errorf("cannot decode into %T: want a pointer", out)
	}
	if n := binary.Size(out); n != len(b) {
		return fmt.Errorf("cannot decode %d bytes into %T (%d bytes)", len(b), out, n)
	}
	return binary.Read(bytes.NewReader(b), binary.NativeEndian, out)
}

// marshalPerCPU encodes a per-CPU value: a slice with one element per slot,
// or []byte already laid out as slots values each padded to 8 bytes.
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
	if rv.Len() != slots {
		return nil, fmt.Errorf("per-CPU value has %d elements, want %d (one per slot)", rv.Len(), slots)
	}
	out := make([]byte, stride*slots)
	for i := 0; i < slots; i++ {
		e, err := marshal(rv.Index(i).Interface(), size)
		if err != nil {
			return nil, fmt.Errorf("slot %d: %w", i, err)
		}
		copy(out[i*stride:], e)
	}
	return out, nil
}

// unmarshalPerCPU decodes a per-CPU value into *[]T (one element per slot),
// *[][]byte, or *[]byte (raw layout).
func unmarshalPerCPU(b []byte, out any, size, slots int) error {
	stride := (size + 7) &^ 7
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
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Slice {
		return fmt.Errorf("per-CPU value: cannot decode into %T, want a pointer to a slice", out)
	}
	s := reflect.MakeSlice(rv.Elem().Type(), slots, slots)
	for i := 0; i < slots; i++ {
		if err := unmarshal(b[i*stride:i*stride+size], s.Index(i).Addr().Interface()); err != nil {
			return fmt.Errorf("slot %d: %w", i, err)
		}
	}
	rv.Elem().Set(s)
	return nil
}
