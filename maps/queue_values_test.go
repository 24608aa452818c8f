package maps

import (
	"bytes"
	"testing"
)

// TestQueueValues: Values lists a queue's and a stack's values oldest
// first, across the ring's wrap, and pushing them into an empty map of the
// same type recreates the map.
func TestQueueValues(t *testing.T) {
	for _, typ := range []Type{Queue, Stack} {
		q := mustNew(t, Spec{Name: "q", Type: typ, ValueSize: 1, MaxEntries: 3}, 1).(*QueueStackMap)
		for _, v := range []byte{1, 2, 3, 4} {
			if err := q.Push([]byte{v}, UpdateExist); err != nil { // 4 drops 1
				t.Fatal(err)
			}
		}
		got := q.Values()
		if len(got) != 3 || got[0][0] != 2 || got[2][0] != 4 {
			t.Fatalf("%v: values %v, want 2 3 4", typ, got)
		}
		q2 := mustNew(t, Spec{Name: "q2", Type: typ, ValueSize: 1, MaxEntries: 3}, 1).(*QueueStackMap)
		for _, v := range got {
			if err := q2.Push(v, UpdateAny); err != nil {
				t.Fatal(err)
			}
		}
		for range 3 {
			a, b := make([]byte, 1), make([]byte, 1)
			if err := q.Pop(a); err != nil {
				t.Fatal(err)
			}
			if err := q2.Pop(b); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Fatalf("%v: popped %v from the map, %v from its copy", typ, a, b)
			}
		}
	}
}
