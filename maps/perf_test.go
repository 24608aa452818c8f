package maps

import (
	"errors"
	"os"
	"testing"
	"time"
)

func TestPerfEventArray(t *testing.T) {
	m := mustNew(t, Spec{Name: "perf", Type: PerfEventArray, KeySize: 4, ValueSize: 4}, 2).(*PerfEventArrayMap)
	wantRet(t, "Output without reader", m.Output(0, PerfCurrentCPU, []byte("x"), nil), ENOENT)
	r, err := m.NewReader(100)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.NewReader(100); ErrnoOf(err) != EBUSY {
		t.Errorf("second reader: %v", err)
	}
	wantRet(t, "Output", m.Output(1, PerfCurrentCPU, []byte("data"), []byte("+ctx")), 0)
	wantRet(t, "Output by index", m.Output(0, 0, []byte("zero"), nil), 0)
	wantRet(t, "Output other slot", m.Output(1, 0, []byte("x"), nil), EOPNOTSUPP)
	wantRet(t, "Output index too big", m.Output(1, 2, []byte("x"), nil), E2BIG)
	wantRet(t, "Output bad flags", m.Output(1, 1<<60, []byte("x"), nil), EINVAL)
	wantRet(t, "Output ctx len", m.Output(1, PerfCurrentCPU|4<<32, []byte("y"), nil), 0)
	got := map[string]int{}
	for i := 0; i < 3; i++ {
		rec, err := r.Read(time.Now().Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got[string(rec.RawSample)] = rec.CPU
	}
	if len(got) != 3 || got["data+ctx"] != 1 || got["zero"] != 0 || got["y"] != 1 {
		t.Errorf("samples %v", got)
	}
	if _, err := r.Read(time.Now().Add(10 * time.Millisecond)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Read on empty: %v", err)
	}

	// Fill slot 0's buffer (4096 bytes: 64-byte samples cost 80).
	sent := 0
	for m.Output(0, PerfCurrentCPU, make([]byte, 64), nil) == 0 {
		sent++
	}
	if sent != 4096/80 {
		t.Errorf("%d samples fit, want %d", sent, 4096/80)
	}
	wantRet(t, "Output full", m.Output(0, PerfCurrentCPU, make([]byte, 64), nil), ENOSPC)
	var lost uint64
	samples := 0
	for {
		rec, err := r.Read(time.Now().Add(10 * time.Millisecond))
		if err != nil {
			break
		}
		lost += rec.LostSamples
		if rec.LostSamples == 0 {
			samples++
		}
	}
	if samples != sent || lost != 2 {
		t.Errorf("read %d samples and %d lost, want %d and 2", samples, lost, sent)
	}

	go func() {
		time.Sleep(20 * time.Millisecond)
		m.Output(1, PerfCurrentCPU, []byte("late"), nil)
	}()
	if rec, err := r.Read(time.Time{}); err != nil || string(rec.RawSample) != "late" || rec.CPU != 1 {
		t.Errorf("blocked Read = %+v, %v", rec, err)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		r.Close()
	}()
	if _, err := r.Read(time.Time{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close: %v", err)
	}
	wantRet(t, "Output after reader closed", m.Output(0, PerfCurrentCPU, []byte("x"), nil), ENOENT)
	r2, err := m.NewReader(4096)
	if err != nil {
		t.Fatalf("reader after Close: %v", err)
	}
	m.Close()
	if _, err := r2.Read(time.Time{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after map Close: %v", err)
	}
	wantErrno(t, "NewReader closed", func() error { _, err := m.NewReader(1); return err }(), EBADF)
}
