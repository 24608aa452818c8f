package maps

import (
	"encoding/binary"
	"testing"
)

// The program-side paths must not allocate: helpers call them per packet.

func BenchmarkArrayLookupPtr(b *testing.B) {
	m := mustNew(b, Spec{Name: "a", Type: Array, KeySize: 4, ValueSize: 8, MaxEntries: 1024}, 1).(*ArrayMap)
	key := u32(17)
	b.ReportAllocs()
	for b.Loop() {
		if m.LookupPtr(key, 0) == nil {
			b.Fatal("missing")
		}
	}
}

func BenchmarkPerCPUArrayLookupPtr(b *testing.B) {
	m := mustNew(b, Spec{Name: "a", Type: PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 1024}, 4).(*ArrayMap)
	key := u32(17)
	b.ReportAllocs()
	for b.Loop() {
		if m.LookupPtr(key, 2) == nil {
			b.Fatal("missing")
		}
	}
}

func benchHash(b *testing.B, typ Type, keySize uint32) *HashMap {
	m := mustNew(b, Spec{Name: "h", Type: typ, KeySize: keySize, ValueSize: 8, MaxEntries: 1 << 16}, 1).(*HashMap)
	key := make([]byte, keySize)
	for i := uint32(0); i < 1<<15; i++ {
		binary.NativeEndian.PutUint32(key, i)
		if r := m.UpdateElem(key, u64(1), 0, 0); r != 0 {
			b.Fatal(r)
		}
	}
	return m
}

func BenchmarkHashLookupPtr(b *testing.B) {
	for _, c := range []struct {
		name string
		typ  Type
		ks   uint32
	}{{"hash/key4", Hash, 4}, {"hash/key16", Hash, 16}, {"hash/key64", Hash, 64}, {"lru/key16", LRUHash, 16}, {"percpu/key16", PerCPUHash, 16}} {
		b.Run(c.name, func(b *testing.B) {
			m := benchHash(b, c.typ, c.ks)
			key := make([]byte, c.ks)
			b.ReportAllocs()
			i := uint32(0)
			for b.Loop() {
				binary.NativeEndian.PutUint32(key, i&(1<<15-1))
				i++
				if m.LookupPtr(key, 0) == nil {
					b.Fatal("missing")
				}
			}
		})
	}
}

func BenchmarkHashLookupPtrParallel(b *testing.B) {
	m := benchHash(b, Hash, 16)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		key := make([]byte, 16)
		i := uint32(0)
		for pb.Next() {
			binary.NativeEndian.PutUint32(key, i&(1<<15-1))
			i += 7
			if m.LookupPtr(key, 0) == nil {
				b.Fatal("missing")
			}
		}
	})
}

func BenchmarkHashUpdateElem(b *testing.B) {
	m := benchHash(b, Hash, 16)
	key, val := make([]byte, 16), u64(2)
	b.ReportAllocs()
	i := uint32(0)
	for b.Loop() {
		binary.NativeEndian.PutUint32(key, i&(1<<15-1))
		i++
		if m.UpdateElem(key, val, 0, 0) != 0 {
			b.Fatal("update failed")
		}
	}
}

func BenchmarkLPMLookupPtr(b *testing.B) {
	m := newLPMv4(b, 4096)
	key := make([]byte, 8)
	for i := uint32(0); i < 4000; i++ {
		binary.NativeEndian.PutUint32(key, 16+i%9)
		binary.BigEndian.PutUint32(key[4:], 10<<24|i<<8)
		m.UpdateElem(key, u32(i), 0, 0)
	}
	binary.NativeEndian.PutUint32(key, 32)
	binary.BigEndian.PutUint32(key[4:], 10<<24|1234<<8|77)
	b.ReportAllocs()
	for b.Loop() {
		m.LookupPtr(key, 0)
	}
}

func BenchmarkRingBufOutput(b *testing.B) {
	r := newRing(b, 1<<20)
	data := make([]byte, 64)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		if r.Output(data, RingBufNoWakeup) != 0 {
			b.Fatal("full")
		}
		if r.Query(RingBufAvailData) > 1<<19 {
			for r.Query(RingBufAvailData) > 0 {
				buf, _ = r.ReadInto(buf, soon())
			}
		}
	}
}
