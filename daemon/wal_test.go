package daemon

import (
	"bytes"
	"testing"
)

// TestWALTornTail: a record the daemon was writing when it died (cut
// short, or with a bad checksum) and everything after it are ignored; the
// records before it are read.
func TestWALTornTail(t *testing.T) {
	recs := []walRecord{
		{op: walClear},
		{op: walUpdate, flags: 1, key: []byte{1, 2, 3, 4}, value: []byte{5, 6, 7, 8, 9, 10, 11, 12}},
		{op: walDelete, key: []byte{1, 2, 3, 4}},
	}
	var b []byte
	var ends []int
	for _, r := range recs {
		b = appendRecord(b, r)
		ends = append(ends, len(b))
	}
	for cut := 0; cut <= len(b); cut++ {
		got, good, err := readRecords(bytes.NewReader(b[:cut]))
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for want < len(ends) && ends[want] <= cut {
			want++
		}
		if len(got) != want || (want > 0 && good != int64(ends[want-1])) {
			t.Fatalf("cut at %d: %d records (%d bytes good), want %d", cut, len(got), good, want)
		}
	}
	got, _, _ := readRecords(bytes.NewReader(b))
	if got[1].op != walUpdate || got[1].flags != 1 || !bytes.Equal(got[1].value, recs[1].value) {
		t.Fatalf("record %+v", got[1])
	}
	for i := range b {
		bad := bytes.Clone(b)
		bad[i] ^= 0x40
		got, _, err := readRecords(bytes.NewReader(bad))
		if err != nil {
			t.Fatal(err)
		}
		// The record holding the flipped byte and those after it are
		// dropped.
		rec := 0
		for ends[rec] <= i {
			rec++
		}
		if len(got) != rec {
			t.Fatalf("byte %d flipped: %d records, want %d", i, len(got), rec)
		}
	}
}

// FuzzReadRecords: any bytes read as a log give records that encode back
// to the intact prefix, without panics or big allocations.
func FuzzReadRecords(f *testing.F) {
	f.Add(appendRecord(appendRecord(nil, walRecord{op: walClear}), walRecord{op: walUpdate, key: []byte{1}, value: []byte{2}}))
	f.Add([]byte("U\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, good, err := readRecords(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		var again []byte
		for _, r := range recs {
			again = appendRecord(again, r)
		}
		if int64(len(again)) != good || !bytes.Equal(again, b[:good]) {
			t.Fatalf("records re-encode to %d bytes, intact prefix is %d", len(again), good)
		}
	})
}
