package perf_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/perf"
)

// TestReader: samples arrive with their slot, a second reader is ErrBusy,
// an empty buffer times out, and Close ends a blocked Read with ErrClosed.
func TestReader(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("../daemon/testdata/perf.o") // samples the first 4 bytes
	if err != nil {
		t.Fatal(err)
	}
	coll, err := bpfhost.NewCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	m := coll.Maps["samples"]
	rd, err := perf.NewReader(m, 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if _, err := perf.NewReader(m, 4096); !errors.Is(err, perf.ErrBusy) {
		t.Errorf("second reader: %v, want ErrBusy", err)
	}
	pkt := make([]byte, 64)
	copy(pkt, "abcd")
	if _, _, err := coll.Programs["sample"].Test(pkt); err != nil {
		t.Fatal(err)
	}
	rd.SetDeadline(time.Now().Add(time.Second))
	rec := perf.Record{RawSample: make([]byte, 0, 64)}
	if err := rd.ReadInto(&rec); err != nil {
		t.Fatal(err)
	}
	if string(rec.RawSample) != "abcd" || rec.LostSamples != 0 || rec.CPU < 0 || cap(rec.RawSample) != 64 {
		t.Errorf("record %+v, want sample \"abcd\"", rec)
	}
	rd.SetDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := rd.Read(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("empty buffers: %v, want a deadline error", err)
	}
	rd.SetDeadline(time.Time{})
	go func() { time.Sleep(20 * time.Millisecond); rd.Close() }()
	if _, err := rd.Read(); !errors.Is(err, bpfhost.ErrClosed) || !errors.Is(err, perf.ErrClosed) || !errors.Is(err, os.ErrClosed) {
		t.Errorf("read after Close: %v, want ErrClosed (bpfhost's, perf's and os's, as cilium/ebpf's perf.ErrClosed is)", err)
	}
	if _, err := perf.NewReader(m, 4096); err != nil {
		t.Errorf("reader after Close: %v", err)
	}
	// A closed handle of a map that lives on (in the collection).
	clone, err := m.Clone()
	if err != nil {
		t.Fatal(err)
	}
	clone.Close()
	if _, err := perf.NewReader(clone, 4096); !errors.Is(err, bpfhost.ErrClosed) {
		t.Errorf("reader of a closed handle: %v, want ErrClosed", err)
	}
}

// TestNotPerf: other maps are refused with an error, not a panic.
func TestNotPerf(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("../daemon/testdata/queue.o")
	if err != nil {
		t.Fatal(err)
	}
	coll, err := bpfhost.NewCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	for name, m := range coll.Maps {
		if _, err := perf.NewReader(m, 4096); err == nil {
			t.Errorf("map %q (%s): no error", name, m.Type())
		}
	}
}
