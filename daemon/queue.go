package daemon

import (
	"errors"
	"fmt"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/daemon/api"
)

// Queues and stacks (bpftool map peek|push|pop|enqueue|dequeue). Their log
// records a push as an update with no key (walUpdate, as BPF_MAP_UPDATE_ELEM
// pushes) and a pop as walPop; a snapshot is walClear and the values
// pushed again, oldest first.

// walPop removes the next value of a queue or stack.
const walPop = 'O'

func isQueue(t bpfhost.MapType) bool { return t == bpfhost.MapQueue || t == bpfhost.MapStack }

// queueOf returns m's queue, or an error for other maps.
func queueOf(m *mapObj) (*bpfhost.Map, error) {
	if !isQueue(m.m.Type()) {
		return nil, errorf(api.CodeInvalid, "map %q is a %s: want a queue or stack", m.m.Name(), m.m.Type())
	}
	return m.m, nil
}

// Peek returns the next value of a queue or stack without removing it.
func (d *Daemon) Peek(r api.Ref) ([]byte, error) {
	m, release, err := d.mapFor(r)
	if err != nil {
		return nil, err
	}
	defer release()
	m.countOp(opLookup)
	q, err := queueOf(m)
	if err != nil {
		return nil, err
	}
	v := make([]byte, m.m.ValueSize())
	if err := q.Lookup(nil, v); err != nil {
		return nil, err
	}
	return v, nil
}

// Push adds a value to a queue or stack (flags 2, exist, drops the oldest
// value of a full one); when it returns nil the push is on disk.
func (d *Daemon) Push(req api.MapRequest) error {
	m, release, err := d.mapFor(req.Map)
	if err != nil {
		return err
	}
	defer release()
	m.countOp(opUpdate)
	if m.m.Type() == bpfhost.MapBloomFilter {
		return d.pushBloom(m, req)
	}
	q, err := queueOf(m)
	if err != nil {
		return err
	}
	if req.Flags != 0 && req.Flags != 2 {
		return errorf(api.CodeInvalid, "push flags %d: want 0 (any) or 2 (exist)", req.Flags)
	}
	m.u.wmu.Lock()
	defer m.u.wmu.Unlock()
	if err := q.Update(nil, req.Value, bpfhost.MapUpdateFlags(req.Flags)); err != nil {
		return err
	}
	return d.logQueue(m, walRecord{op: walUpdate, flags: req.Flags, value: req.Value})
}

// Pop removes and returns the next value of a queue or stack; when it
// returns the removal is on disk.
func (d *Daemon) Pop(r api.Ref) ([]byte, error) {
	m, release, err := d.mapFor(r)
	if err != nil {
		return nil, err
	}
	defer release()
	m.countOp(opDelete)
	q, err := queueOf(m)
	if err != nil {
		return nil, err
	}
	v := make([]byte, m.m.ValueSize())
	m.u.wmu.Lock()
	defer m.u.wmu.Unlock()
	if err := q.LookupAndDelete(nil, v); err != nil {
		return nil, err
	}
	return v, d.logQueue(m, walRecord{op: walPop})
}

// pushBloom adds a value to a bloom filter (bpftool map push); when it
// returns nil the filter's memory file has it on disk.
func (d *Daemon) pushBloom(m *mapObj, req api.MapRequest) error {
	if err := writable(m); err != nil {
		return err
	}
	if req.Flags != 0 {
		return errorf(api.CodeInvalid, "push flags %d: want 0 (any) for a bloom filter", req.Flags)
	}
	if err := m.m.Update(nil, req.Value, bpfhost.UpdateAny); err != nil {
		return err
	}
	if err := d.syncMemory(m); err != nil {
		return errorf(api.CodeInternal, "%w", err)
	}
	return nil
}

// logQueue appends a queue's record. The unit's wmu is held.
func (d *Daemon) logQueue(m *mapObj, r walRecord) error {
	if m.wal == nil {
		return nil
	}
	if err := m.wal.append(r); err != nil {
		return errorf(api.CodeInternal, "%w", err)
	}
	d.compact(m)
	return nil
}

// replayQueue applies one record to a queue or stack.
func replayQueue(m *bpfhost.Map, r walRecord) error {
	if !isQueue(m.Type()) {
		return fmt.Errorf("map %q is no queue", m.Name())
	}
	switch r.op {
	case walClear:
		clearQueue(m)
	case walUpdate:
		return m.Update(nil, r.value, bpfhost.MapUpdateFlags(r.flags))
	case walPop:
		if err := m.LookupAndDelete(nil, make([]byte, m.ValueSize())); err != nil && !errors.Is(err, bpfhost.ErrKeyNotExist) {
			return err
		}
	default:
		return fmt.Errorf("record %q in a queue's log", r.op)
	}
	return nil
}

// clearQueue pops every value of queue or stack q.
func clearQueue(q *bpfhost.Map) {
	v := make([]byte, q.ValueSize())
	for q.LookupAndDelete(nil, v) == nil {
	}
}

// queueSnapshot is the records that recreate a queue or stack.
func queueSnapshot(m *bpfhost.Map) []walRecord {
	recs := []walRecord{{op: walClear}}
	if vals, err := m.QueueValues(); err == nil {
		for _, v := range vals {
			recs = append(recs, walRecord{op: walUpdate, value: v})
		}
	}
	return recs
}
