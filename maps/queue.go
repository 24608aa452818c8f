package maps

import (
	"sync"
)

// QueueStackMap is BPF_MAP_TYPE_QUEUE (FIFO) and BPF_MAP_TYPE_STACK
// (LIFO): keyless maps of up to MaxEntries values that programs push, pop
// and peek by copy. Push with BPF_EXIST on a full map drops the oldest
// value to make room.
type QueueStackMap struct {
	base
	mu    sync.Mutex
	stack bool
	size  int
	buf   []byte // MaxEntries values in a ring
	head  uint32 // index of the oldest value
	count uint32
}

func newQueue(b base) *QueueStackMap {
	s := &b.spec
	return &QueueStackMap{
		base:  b,
		stack: s.Type == Stack,
		size:  int(s.ValueSize),
		buf:   make([]byte, uint64(s.ValueSize)*uint64(s.MaxEntries)),
	}
}

func (q *QueueStackMap) at(i uint32) []byte {
	off := int(i%q.spec.MaxEntries) * q.size
	return q.buf[off : off+q.size]
}

// PushElem adds a value: -E2BIG when full unless flags is BPF_EXIST, which
// drops the oldest value.
func (q *QueueStackMap) PushElem(value []byte, flags uint64) int64 {
	if r := q.progWrite(); r != 0 {
		return r
	}
	return q.push(value, flags)
}

func (q *QueueStackMap) push(value []byte, flags uint64) int64 {
	if flags&uint64(UpdateNoExist) != 0 || flags > uint64(UpdateExist) || len(value) < q.size {
		return EINVAL.Ret()
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.count == q.spec.MaxEntries {
		if flags != uint64(UpdateExist) {
			return E2BIG.Ret()
		}
		q.head = (q.head + 1) % q.spec.MaxEntries
		q.count--
	}
	copy(q.at(q.head+q.count), value)
	q.count++
	return 0
}

// take copies the next value out (front of a queue, top of a stack) and
// removes it if pop.
func (q *QueueStackMap) take(out []byte, pop bool) int64 {
	if len(out) < q.size {
		return EINVAL.Ret()
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.count == 0 {
		return ENOENT.Ret()
	}
	i := q.head
	if q.stack {
		i = q.head + q.count - 1
	}
	copy(out, q.at(i))
	if pop {
		q.count--
		if !q.stack {
			q.head = (q.head + 1) % q.spec.MaxEntries
		}
	}
	return 0
}

// PopElem copies and removes the next value; -ENOENT if empty.
func (q *QueueStackMap) PopElem(valueOut []byte) int64 {
	if r := q.progWrite(); r != 0 {
		return r
	}
	return q.take(valueOut, true)
}

// PeekElem copies the next value; -ENOENT if empty.
func (q *QueueStackMap) PeekElem(valueOut []byte) int64 { return q.take(valueOut, false) }

// Push adds a value from user space.
func (q *QueueStackMap) Push(value []byte, flags UpdateFlags) error {
	return q.Update(nil, value, flags)
}

// Pop removes and copies the next value.
func (q *QueueStackMap) Pop(valueOut []byte) error { return q.LookupAndDelete(nil, valueOut) }

// Peek copies the next value.
func (q *QueueStackMap) Peek(valueOut []byte) error { return q.Lookup(nil, valueOut) }

// Lookup with a nil key peeks.
func (q *QueueStackMap) Lookup(key, valueOut []byte) error {
	const op = "lookup"
	if err := q.userRead(op); err != nil {
		return err
	}
	if err := q.checkKey(op, key); err != nil {
		return err
	}
	if err := q.checkValue(op, valueOut); err != nil {
		return err
	}
	return retErr(q.spec.Name, op, q.take(valueOut, false))
}

// Update with a nil key pushes.
func (q *QueueStackMap) Update(key, value []byte, flags UpdateFlags) error {
	const op = "update"
	if err := q.userWrite(op); err != nil {
		return err
	}
	if err := q.checkKey(op, key); err != nil {
		return err
	}
	if err := q.checkValue(op, value); err != nil {
		return err
	}
	return retErr(q.spec.Name, op, q.push(value, uint64(flags)))
}

// LookupAndDelete with a nil key pops.
func (q *QueueStackMap) LookupAndDelete(key, valueOut []byte) error {
	const op = "lookup and delete"
	if err := q.userRead(op); err != nil {
		return err
	}
	if err := q.userWrite(op); err != nil {
		return err
	}
	if err := q.checkKey(op, key); err != nil {
		return err
	}
	if err := q.checkValue(op, valueOut); err != nil {
		return err
	}
	return retErr(q.spec.Name, op, q.take(valueOut, true))
}

// Delete is not supported (EINVAL, as Linux).
func (q *QueueStackMap) Delete(key []byte) error { return notSupported(&q.base, "delete", EINVAL) }

// NextKey is not supported (EINVAL, as Linux).
func (q *QueueStackMap) NextKey(key, nextOut []byte) error {
	return notSupported(&q.base, "next key", EINVAL)
}

// Len returns the number of values held.
func (q *QueueStackMap) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return int(q.count)
}

// Values returns copies of the values held, oldest first (the order that
// pushing them again recreates the map in), for snapshots.
func (q *QueueStackMap) Values() [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([][]byte, q.count)
	for i := range out {
		out[i] = append([]byte(nil), q.at(q.head+uint32(i))...)
	}
	return out
}
