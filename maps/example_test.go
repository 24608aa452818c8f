package maps_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/bpfhost/bpfhost/maps"
)

func ExampleNew() {
	m, err := maps.New(maps.Spec{Name: "counts", Type: maps.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 128}, 2)
	if err != nil {
		panic(err)
	}
	key := binary.NativeEndian.AppendUint32(nil, 7)
	value := binary.NativeEndian.AppendUint64(nil, 1)
	fmt.Println(m.Update(key, value, maps.UpdateNoExist))
	err = m.Update(key, value, maps.UpdateNoExist)
	fmt.Println(err, errors.Is(err, maps.ErrKeyExist), maps.ErrnoOf(err))

	_, err = maps.New(maps.Spec{Name: "bad", Type: maps.Array, KeySize: 8, ValueSize: 4, MaxEntries: 1}, 1)
	fmt.Println(err)
	// Output:
	// <nil>
	// map "counts": update: key already exists true EEXIST
	// map "bad": key size 8, want 4
}

func ExampleElemMap() {
	m, _ := maps.New(maps.Spec{Name: "hits", Type: maps.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 1}, 2)
	prog := m.(maps.ElemMap)
	key := binary.NativeEndian.AppendUint32(nil, 0)
	// What bpf_map_lookup_elem does for a program running on slot 1.
	p := prog.LookupPtr(key, 1)
	*(*uint64)(p) += 5
	// User space sees one 8-byte value per slot.
	out := make([]byte, 16)
	m.Lookup(key, out)
	fmt.Println(binary.NativeEndian.Uint64(out), binary.NativeEndian.Uint64(out[8:]))
	// Output: 0 5
}

func ExampleRingBufMap() {
	m, _ := maps.New(maps.Spec{Name: "events", Type: maps.RingBuf, MaxEntries: 4096}, 1)
	rb := m.(*maps.RingBufMap)
	// Program side: reserve, fill, submit.
	p := rb.Reserve(5, 0)
	copy(unsafe.Slice((*byte)(p), 5), "hello")
	rb.Submit(p, 0)
	// User side: a blocking read with a deadline.
	rec, err := rb.Read(time.Now().Add(time.Second))
	fmt.Printf("%s %v\n", rec, err)
	// Output: hello <nil>
}
