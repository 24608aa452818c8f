package helpers

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

func TestRingbufHelpers(t *testing.T) {
	e := newEnv(t, vm.Checked)
	m, rp := e.newMap(maps.Spec{Name: "events", Type: maps.RingBuf, MaxEntries: 4096}, 1)
	rb := m.(*maps.RingBufMap)
	data, dp := e.mem("data", 16, false)
	copy(data, "output record!!!")

	if r := e.mustCall(linux.FnRingbufOutput, rp, dp, 16, 0); r != 0 {
		t.Fatalf("ringbuf_output = %d", r)
	}
	if r := e.mustCall(linux.FnRingbufOutput, rp, dp, 16, 4); r != eINVAL {
		t.Errorf("ringbuf_output flags 4 = %d, want -EINVAL", r)
	}
	p := e.mustCall(linux.FnRingbufReserve, rp, 8, 0)
	if p == 0 {
		t.Fatal("reserve failed")
	}
	copy(vm.Bytes(uint64(p), 8), "reserved")
	q := e.mustCall(linux.FnRingbufReserve, rp, 8, 0)
	e.mustCall(linux.FnRingbufDiscard, uint64(q), 0)
	e.mustCall(linux.FnRingbufSubmit, uint64(p), 0)
	if r := e.mustCall(linux.FnRingbufReserve, rp, 8, 1); r != 0 {
		t.Errorf("reserve with flags = %#x, want NULL", r)
	}
	if r := e.mustCall(linux.FnRingbufReserve, rp, 8192, 0); r != 0 {
		t.Errorf("reserve bigger than the ring = %#x, want NULL", r)
	}
	if size := e.mustCall(linux.FnRingbufQuery, rp, maps.RingBufRingSize); size != 4096 {
		t.Errorf("query ring size = %d", size)
	}
	if avail := e.mustCall(linux.FnRingbufQuery, rp, maps.RingBufAvailData); avail != 3*8+16+8+8 {
		t.Errorf("query avail = %d", avail)
	}
	for _, want := range []string{"output record!!!", "reserved"} {
		rec, err := rb.Read(time.Now().Add(time.Second))
		if err != nil || string(rec) != want {
			t.Fatalf("read %q, %v; want %q", rec, err, want)
		}
	}
	if _, err := rb.Read(time.Now().Add(10 * time.Millisecond)); err == nil {
		t.Error("discarded record was read")
	}
	// Submitting something that is not a record is a fault in checked mode.
	if _, err := e.call(linux.FnRingbufSubmit, dp, 0); !errors.Is(err, ErrBadRecord) {
		t.Errorf("submit of a non-record: %v", err)
	}
	e.rc.Mode = vm.Trusted
	if r, err := e.call(linux.FnRingbufSubmit, dp, 0); r != 0 || err != nil {
		t.Errorf("submit of a non-record, trusted = %d, %v", r, err)
	}
}

// TestRingbufProgram reserves, fills and submits from programs on many
// goroutines while a reader consumes.
func TestRingbufProgram(t *testing.T) {
	host := newHost()
	m, _ := maps.New(maps.Spec{Name: "events", Type: maps.RingBuf, MaxEntries: 1 << 16}, 4)
	rb := m.(*maps.RingBufMap)
	src := fmt.Sprintf(`
		mov %%r6, %%r1
		lddw %%r1, %#x
		mov %%r2, 8
		mov %%r3, 0
		call 131
		jeq %%r0, 0, full
		stxdw [%%r0+0], %%r6
		mov %%r1, %%r0
		mov %%r2, 0
		call 132
		mov %%r0, 1
		exit
	full:
		mov %%r0, 0
		exit`, host.add(m))
	exe := compile(t, src, host, vm.Checked)
	const per = 500
	var wg sync.WaitGroup
	var mu sync.Mutex
	sent := 0
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc := &vm.RunContext{Slot: g, Regions: []vm.Region{vm.RegionOf("ring", rb.DataMemory(), true)}}
			for i := range per {
				rc.Args[0] = uint64(g*per + i)
				r, err := vm.Run(exe, rc)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				sent += int(r)
				mu.Unlock()
			}
		}()
	}
	seen := map[uint64]bool{}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for {
		rec, err := rb.Read(time.Now().Add(20 * time.Millisecond))
		if err != nil {
			select {
			case <-done:
				// The producers may have submitted their last records
				// after the read gave up (a busy machine can hold them
				// back for longer than its 20 ms): read what is left.
				for {
					rec, ok := rb.TryRead(nil)
					if !ok {
						break
					}
					seen[le64bytes(rec)] = true
				}
				mu.Lock()
				n := sent
				mu.Unlock()
				if len(seen) != n || n == 0 {
					t.Errorf("read %d records, programs submitted %d", len(seen), n)
				}
				return
			default:
				continue
			}
		}
		seen[le64bytes(rec)] = true
	}
}

func le64bytes(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

func TestPerfEventOutput(t *testing.T) {
	e := newEnv(t, vm.Checked)
	e.rc.Slot = 1
	m, mp := e.newMap(maps.Spec{Name: "perf", Type: maps.PerfEventArray, KeySize: 4, ValueSize: 4}, 2)
	rd, err := m.(*maps.PerfEventArrayMap).NewReader(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	data, dp := e.mem("data", 4, false)
	copy(data, "abcd")
	if r := e.mustCall(linux.FnPerfEventOutput, 0, mp, maps.PerfCurrentCPU, dp, 4); r != 0 {
		t.Fatalf("perf_event_output = %d", r)
	}
	if r := e.mustCall(linux.FnPerfEventOutput, 0, mp, 0, dp, 4); r != eOPNOTSUPP {
		t.Errorf("output to another slot's entry = %d, want -EOPNOTSUPP", r)
	}
	rec, err := rd.Read(time.Now().Add(time.Second))
	if err != nil || rec.CPU != 1 || string(rec.RawSample) != "abcd" {
		t.Fatalf("read %+v, %v", rec, err)
	}
	// With BPF_F_CTXLEN_MASK, XDP programs append packet bytes.
	pkt := []byte("0123456789abcdef")
	x := &linux.XDPContext{Data: addr(pkt) + 2, DataEnd: addr(pkt) + 16}
	x.DataMeta = x.Data
	run := &Run{Program: linux.XDP, Ctx: ptrOf(x), Packet: pkt}
	e.rc.Value = run
	cp := uint64(uintptr(run.Ctx))
	if r := e.mustCall(linux.FnPerfEventOutput, cp, mp, 3<<32|maps.PerfCurrentCPU, dp, 4); r != 0 {
		t.Fatalf("perf_event_output with ctx bytes = %d", r)
	}
	rec, err = rd.Read(time.Now().Add(time.Second))
	if err != nil || !bytes.Equal(rec.RawSample, []byte("abcd234")) {
		t.Errorf("read %q, %v; want abcd234", rec.RawSample, err)
	}
	if r := e.mustCall(linux.FnPerfEventOutput, cp, mp, 15<<32|maps.PerfCurrentCPU, dp, 4); r != eFAULT {
		t.Errorf("ctx bytes beyond the packet = %d, want -EFAULT", r)
	}
	run.Program = linux.Kprobe
	if r := e.mustCall(linux.FnPerfEventOutput, cp, mp, 3<<32|maps.PerfCurrentCPU, dp, 4); r != eINVAL {
		t.Errorf("ctx bytes in a kprobe = %d, want -EINVAL", r)
	}
}
