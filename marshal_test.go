package bpfhost_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/bpfhost/bpfhost"
)

// marshalMaps returns a hash map (key 4, value 8) holding key 1 = 7 and a
// per-CPU hash map (key 4, value 4) with 4 slots holding key 1 = {1, 2, 3, 4}.
func marshalMaps(t testing.TB) (h, pc *bpfhost.Map) {
	t.Helper()
	c, err := bpfhost.NewCollection(&bpfhost.CollectionSpec{Maps: []*bpfhost.MapSpec{
		{Name: "h", Type: uint32(bpfhost.MapHash), KeySize: 4, ValueSize: 8, MaxEntries: 16},
		{Name: "pc", Type: uint32(bpfhost.MapPerCPUHash), KeySize: 4, ValueSize: 4, MaxEntries: 16},
	}}, &bpfhost.CollectionOptions{Slots: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	h, pc = c.Maps["h"], c.Maps["pc"]
	if err := h.Put(uint32(1), uint64(7)); err != nil {
		t.Fatal(err)
	}
	if err := pc.Put(uint32(1), []uint32{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	return h, pc
}

// noPanic runs f and turns a panic into an error.
func noPanic(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}

// TestMarshalBadInput checks that keys and values the map cannot encode or
// decode into are errors wrapping ErrInvalid, never panics (typed nil
// pointers, structs with unexported fields, non-fixed-size types).
func TestMarshalBadInput(t *testing.T) {
	h, pc := marshalMaps(t)
	var v uint64
	for _, tc := range []struct {
		name string
		op   func() error
	}{
		{"nil *uint64 value out", func() error { return h.Lookup(uint32(1), (*uint64)(nil)) }},
		{"nil *[]byte value out", func() error { return h.Lookup(uint32(1), (*[]byte)(nil)) }},
		{"nil *uint32 key", func() error { return h.Lookup((*uint32)(nil), &v) }},
		{"nil *struct key", func() error { return h.Put((*struct{ A uint32 })(nil), uint64(1)) }},
		{"unexported fields out", func() error { var s struct{ a, b uint32 }; return h.Lookup(uint32(1), &s) }},
		{"nested unexported out", func() error { var s [1]struct{ A struct{ b uint64 } }; return h.Lookup(uint32(1), &s) }},
		{"chan value", func() error { return h.Put(uint32(2), make(chan int)) }},
		{"**uint64 out", func() error { p := &v; return h.Lookup(uint32(1), &p) }},
		{"nil per-CPU *[]uint32 out", func() error { return pc.Lookup(uint32(1), (*[]uint32)(nil)) }},
		{"per-CPU []*uint32 with nil", func() error { return pc.Lookup(uint32(1), make([]*uint32, 4)) }},
		{"per-CPU nil element in", func() error { return pc.Put(uint32(1), []*uint32{nil}) }},
		{"per-CPU too many", func() error { return pc.Put(uint32(1), make([]uint32, 5)) }},
		{"per-CPU []uint32 out too short", func() error { return pc.Lookup(uint32(1), make([]uint32, 3)) }},
	} {
		err := noPanic(tc.op)
		if !errors.Is(err, bpfhost.ErrInvalid) {
			t.Errorf("%s: %v, want an error wrapping ErrInvalid", tc.name, err)
		}
	}
}

// TestMarshalLikeCilium checks the keys and values cilium/ebpf accepts:
// strings, slices filled in place, *string, per-CPU slices shorter than the
// CPUs (the rest zero), per-CPU []T of one element per CPU filled in place,
// and *[]*T.
func TestMarshalLikeCilium(t *testing.T) {
	h, pc := marshalMaps(t)
	if err := h.Put("abcd", uint64(9)); err != nil {
		t.Errorf("string key: %v", err)
	}
	var v uint64
	if err := h.Lookup([]byte("abcd"), &v); err != nil || v != 9 {
		t.Errorf("string key's value: %d, %v", v, err)
	}
	words := make([]uint32, 2)
	if err := h.Lookup(uint32(1), words); err != nil || words[0] != 7 || words[1] != 0 {
		t.Errorf("value into []uint32: %v, %v", words, err)
	}
	var s string
	if err := h.Lookup(uint32(1), &s); err != nil || s != "\x07\x00\x00\x00\x00\x00\x00\x00" {
		t.Errorf("value into *string: %q, %v", s, err)
	}

	if err := pc.Put(uint32(2), []uint32{5}); err != nil {
		t.Fatalf("per-CPU value of one element: %v", err)
	}
	var got []uint32
	if err := pc.Lookup(uint32(2), &got); err != nil || !slices.Equal(got, []uint32{5, 0, 0, 0}) {
		t.Errorf("per-CPU value of one element reads %v, %v; want [5 0 0 0]", got, err)
	}
	fill := make([]uint32, 4)
	if err := pc.Lookup(uint32(1), fill); err != nil || !slices.Equal(fill, []uint32{1, 2, 3, 4}) {
		t.Errorf("per-CPU value into []uint32: %v, %v", fill, err)
	}
	var ptrs []*uint32
	if err := pc.Lookup(uint32(1), &ptrs); err != nil || len(ptrs) != 4 || *ptrs[3] != 4 {
		t.Errorf("per-CPU value into *[]*uint32: %v", err)
	}
	mine := []*uint32{new(uint32), new(uint32), new(uint32), new(uint32)}
	if err := pc.Lookup(uint32(1), mine); err != nil || *mine[2] != 3 {
		t.Errorf("per-CPU value into []*uint32: %v", err)
	}
}

// marshalTypes are the Go types FuzzMarshal builds keys and values of.
var marshalTypes = []reflect.Type{
	reflect.TypeFor[uint8](), reflect.TypeFor[uint32](), reflect.TypeFor[uint64](), reflect.TypeFor[int16](),
	reflect.TypeFor[[4]byte](), reflect.TypeFor[[3]uint16](), reflect.TypeFor[struct{ A, B uint32 }](),
	reflect.TypeFor[struct {
		A uint8
		_ [3]byte
		B uint32
	}](),
	reflect.TypeFor[struct{ a uint64 }](), reflect.TypeFor[struct{ P *uint32 }](), reflect.TypeFor[string](),
	reflect.TypeFor[[]byte](), reflect.TypeFor[[]uint32](), reflect.TypeFor[[]*uint32](), reflect.TypeFor[[][]byte](),
	reflect.TypeFor[map[int]int](), reflect.TypeFor[chan int](), reflect.TypeFor[bool](), reflect.TypeFor[float32](),
	reflect.TypeFor[any](), reflect.TypeFor[[2]struct{ X [2]int32 }](),
}

// fuzzValue builds a value of one of marshalTypes from the fuzzer's bytes:
// the type, whether to take a pointer to it (possibly nil), a length for
// slices, and the contents.
func fuzzValue(b []byte) (any, []byte) {
	if len(b) < 3 {
		return nil, nil
	}
	t := marshalTypes[int(b[0])%len(marshalTypes)]
	form, n := b[1]%4, int(b[2]%10)
	b = b[3:]
	v := reflect.New(t).Elem()
	if t.Kind() == reflect.Slice {
		v.Set(reflect.MakeSlice(t, n, n))
		if t.Elem().Kind() == reflect.Pointer && n > 0 && len(b) > 0 && b[0]%2 == 0 {
			v.Index(0).Set(reflect.New(t.Elem().Elem()))
		}
	}
	switch form {
	case 1:
		return v.Addr().Interface(), b
	case 2:
		return reflect.Zero(reflect.PointerTo(t)).Interface(), b
	}
	if t.Kind() == reflect.Interface {
		return nil, b
	}
	return v.Interface(), b
}

// FuzzMarshal builds keys, values and outputs of many Go types (pointers,
// nil pointers, slices, structs with unexported fields or pointers) and uses
// them with a hash map and a per-CPU map: errors are expected, a panic is a
// bug.
func FuzzMarshal(f *testing.F) {
	f.Add([]byte{1, 0, 0, 2, 0, 0, 1, 1, 0})
	f.Add([]byte{1, 2, 0, 2, 1, 0, 12, 0, 3})
	f.Add([]byte{8, 1, 0, 6, 1, 0, 13, 1, 4, 0})
	f.Add([]byte{11, 0, 4, 14, 0, 4, 13, 0, 4, 1})
	h, pc := marshalMaps(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		key, b := fuzzValue(b)
		val, b := fuzzValue(b)
		out, _ := fuzzValue(b)
		for _, m := range []*bpfhost.Map{h, pc} {
			ops := []func() error{
				func() error { return m.Put(key, val) },
				func() error { return m.Lookup(key, out) },
				func() error { return m.Lookup(uint32(1), out) },
				func() error { return m.NextKey(key, out) },
				func() error { return m.Delete(key) },
				func() error {
					it := m.Iterate()
					for it.Next(out, out) {
					}
					return it.Err()
				},
				func() error {
					var c bpfhost.MapBatchCursor
					_, err := m.BatchLookup(&c, val, out)
					return err
				},
				func() error { _, err := m.BatchUpdate(key, val, 0); return err },
			}
			for i, op := range ops {
				func() {
					defer func() {
						if r := recover(); r != nil {
							t.Fatalf("%s op %d with key %T, value %T, out %T: panic: %v", m.Name(), i, key, val, out, r)
						}
					}()
					_ = op()
				}()
			}
		}
	})
}
