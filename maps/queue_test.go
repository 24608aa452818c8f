package maps

import (
	"encoding/binary"
	"testing"
)

func TestQueueStack(t *testing.T) {
	cases := []struct {
		typ  Type
		ops  string // p N: push, P N: push with BPF_EXIST, o N: pop expecting N, k N: peek expecting N, e: pop expecting ENOENT, f: push expecting E2BIG
		want []uint32
	}{
		{Queue, "p1 p2 p3 k1 o1 o2 p4 p5 o3 o4 o5 e", nil},
		{Stack, "p1 p2 p3 k3 o3 o2 p4 p5 o5 o4 o1 e", nil},
		{Queue, "p1 p2 p3 f P4 o2 o3 o4 e", nil},
		{Stack, "p1 p2 p3 f P4 o4 o3 o2 e", nil},
	}
	for _, c := range cases {
		t.Run(c.typ.String()+" "+c.ops, func(t *testing.T) {
			m := mustNew(t, Spec{Name: "q", Type: c.typ, ValueSize: 4, MaxEntries: 3}, 1).(*QueueStackMap)
			out := make([]byte, 4)
			var n uint32
			for i := 0; i < len(c.ops); i += 3 {
				op := c.ops[i]
				if i+1 < len(c.ops) && c.ops[i+1] != ' ' {
					n = uint32(c.ops[i+1] - '0')
				}
				switch op {
				case 'p':
					wantRet(t, "PushElem", m.PushElem(u32(n), 0), 0)
				case 'P':
					wantRet(t, "PushElem exist", m.PushElem(u32(n), uint64(UpdateExist)), 0)
				case 'f':
					wantRet(t, "PushElem full", m.PushElem(u32(9), 0), E2BIG)
					wantErrno(t, "Push full", m.Push(u32(9), UpdateAny), E2BIG)
					i--
				case 'e':
					wantRet(t, "PopElem empty", m.PopElem(out), ENOENT)
					wantRet(t, "PeekElem empty", m.PeekElem(out), ENOENT)
					wantErrno(t, "Pop empty", m.Pop(out), ENOENT)
				case 'o', 'k':
					var err error
					if op == 'o' {
						err = m.Pop(out)
					} else {
						err = m.Peek(out)
					}
					wantErrno(t, string(op), err, 0)
					if got := binary.NativeEndian.Uint32(out); got != n {
						t.Errorf("%c = %d, want %d", op, got, n)
					}
				}
			}
		})
	}
	m := mustNew(t, Spec{Name: "q", Type: Queue, ValueSize: 4, MaxEntries: 3}, 1)
	wantErrno(t, "Push noexist", m.Update(nil, u32(1), UpdateNoExist), EINVAL)
	wantErrno(t, "Push bad flags", m.Update(nil, u32(1), UpdateLock), EINVAL)
	wantErrno(t, "Push with key", m.Update(u32(1), u32(1), UpdateAny), EINVAL)
	wantErrno(t, "Delete", m.Delete(nil), EINVAL)
	wantErrno(t, "NextKey", m.NextKey(nil, nil), EINVAL)
	wantErrno(t, "Update", m.Update(nil, u32(5), UpdateAny), 0)
	out := make([]byte, 4)
	wantErrno(t, "LookupAndDelete", m.LookupAndDelete(nil, out), 0)
	if binary.NativeEndian.Uint32(out) != 5 {
		t.Error("pop value")
	}
}

func TestBloomFilter(t *testing.T) {
	for _, hashes := range []uint64{0, 1, 3} {
		m := mustNew(t, Spec{Name: "b", Type: BloomFilter, ValueSize: 8, MaxEntries: 1000, MapExtra: hashes, Flags: FlagZeroSeed}, 1).(*BloomFilterMap)
		for i := uint64(0); i < 1000; i += 2 {
			wantRet(t, "PushElem", m.PushElem(u64(i), 0), 0)
		}
		falsePos := 0
		for i := uint64(0); i < 1000; i++ {
			r := m.PeekElem(u64(i))
			if i%2 == 0 && r != 0 {
				t.Fatalf("hashes %d: pushed %d not found", hashes, i)
			}
			if i%2 == 1 && r == 0 {
				falsePos++
			}
		}
		if falsePos > 150 {
			t.Errorf("hashes %d: %d false positives of 500", hashes, falsePos)
		}
		absent := uint64(1 << 40)
		for m.PeekElem(u64(absent)) == 0 {
			absent++
		}
		wantErrno(t, "Lookup absent", m.Lookup(nil, u64(absent)), ENOENT)
		wantErrno(t, "Lookup present", m.Lookup(nil, u64(2)), 0)
		wantErrno(t, "Update", m.Update(nil, u64(absent), UpdateAny), 0)
		wantErrno(t, "Lookup added", m.Lookup(nil, u64(absent)), 0)
		wantErrno(t, "Update exist", m.Update(nil, u64(1), UpdateExist), EINVAL)
		wantRet(t, "PopElem", m.PopElem(make([]byte, 8)), EOPNOTSUPP)
		wantErrno(t, "Delete", m.Delete(nil), EOPNOTSUPP)
		wantErrno(t, "NextKey", m.NextKey(nil, nil), EOPNOTSUPP)
		wantErrno(t, "LookupAndDelete", m.LookupAndDelete(nil, make([]byte, 8)), EOPNOTSUPP)
	}
}
