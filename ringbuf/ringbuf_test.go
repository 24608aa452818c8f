package ringbuf_test

import (
	"encoding/binary"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/ringbuf"
)

// TestEvents runs the example event exporter and reads its records.
func TestEvents(t *testing.T) {
	coll, rd := eventsReader(t)
	if rd.BufferSize() != 64*1024 {
		t.Errorf("buffer size %d, want 64 KiB", rd.BufferSize())
	}
	pkt := udpPacket()
	for i := 0; i < 3; i++ {
		if _, _, err := coll.Programs["xdp_events"].Test(pkt); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ {
		rd.SetDeadline(time.Now().Add(time.Second))
		rec, err := rd.Read()
		if err != nil {
			t.Fatal(err)
		}
		// struct event (56 bytes): timestamp, length, vlan, family, proto, sport, dport, saddr, daddr.
		if len(rec.RawSample) != 56 || binary.LittleEndian.Uint32(rec.RawSample[8:]) != 42 ||
			rec.RawSample[14] != 4 || rec.RawSample[15] != 17 || binary.BigEndian.Uint16(rec.RawSample[18:]) != 53 {
			t.Errorf("record %d: %x", i, rec.RawSample)
		}
		if want := (2 - i) * 64; rec.Remaining != want {
			t.Errorf("record %d: remaining %d, want %d", i, rec.Remaining, want)
		}
	}
	rd.SetDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := rd.Read(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("empty ring: %v, want a deadline error", err)
	}
	rd.SetDeadline(time.Time{})
	go func() { time.Sleep(20 * time.Millisecond); rd.Close() }()
	if _, err := rd.Read(); !errors.Is(err, ringbuf.ErrClosed) || !errors.Is(err, os.ErrClosed) {
		t.Errorf("after Close: %v, want ringbuf.ErrClosed and os.ErrClosed (cilium/ebpf's ringbuf.ErrClosed is os.ErrClosed)", err)
	}
	coll.Close()
	if _, err := ringbuf.NewReader(coll.Maps["events"]); !errors.Is(err, bpfhost.ErrClosed) {
		t.Errorf("reader of a closed map: %v, want ErrClosed", err)
	}
	if _, err := ringbuf.NewReader(coll.Maps[".bss"]); err == nil {
		t.Error("a reader of an array map")
	}
}

// TestFlush checks Flush as cilium/ebpf has it: the reads after it return the
// records committed so far without waiting, then ErrFlushed once, then wait
// again; a Read blocked when Flush is called returns ErrFlushed.
func TestFlush(t *testing.T) {
	coll, rd := eventsReader(t)
	pkt := udpPacket()
	for i := 0; i < 2; i++ {
		if _, _, err := coll.Programs["xdp_events"].Test(pkt); err != nil {
			t.Fatal(err)
		}
	}
	rd.Flush()
	for i := 0; i < 2; i++ {
		if _, err := rd.Read(); err != nil {
			t.Fatalf("record %d after Flush: %v", i, err)
		}
	}
	if _, err := rd.Read(); !errors.Is(err, ringbuf.ErrFlushed) {
		t.Fatalf("after the flushed records: %v, want ErrFlushed", err)
	}
	rd.SetDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := rd.Read(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("after ErrFlushed: %v, want to wait again (deadline)", err)
	}
	rd.SetDeadline(time.Time{})
	done := make(chan error, 1)
	go func() { _, err := rd.Read(); done <- err }()
	// Flush before or after the goroutine's Read starts: either way that
	// Read returns ErrFlushed (nothing is committed), within pollInterval
	// of the Flush; 10 s leaves a slow machine room.
	rd.Flush()
	select {
	case err := <-done:
		if !errors.Is(err, ringbuf.ErrFlushed) {
			t.Errorf("blocked Read after Flush: %v, want ErrFlushed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a blocked Read did not return after Flush")
	}
}

// eventsReader loads the example event exporter and returns it with a
// reader of its ring buffer; both are closed when the test ends.
func eventsReader(t *testing.T) (*bpfhost.Collection, *ringbuf.Reader) {
	t.Helper()
	spec, err := bpfhost.LoadCollectionSpec("../examples/events.o")
	if err != nil {
		t.Fatal(err)
	}
	coll, err := bpfhost.NewCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { coll.Close() })
	rd, err := ringbuf.NewReader(coll.Maps["events"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.Close() })
	return coll, rd
}

// udpPacket is an Ethernet frame with a UDP datagram from 10.0.0.1 to
// 10.0.0.2, port 53: one event each.
func udpPacket() []byte {
	pkt := make([]byte, 42)
	pkt[12], pkt[13], pkt[14], pkt[23] = 0x08, 0x00, 0x45, 17
	copy(pkt[26:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	binary.BigEndian.PutUint16(pkt[36:], 53)
	return pkt
}
