package bpfhost_test

import (
	"errors"
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
)

// TestRunXDPBatchMetaLimit: the verifier assumes data_meta lies at most
// platform.MaxMetaSize bytes before data, so a program may rely on
// data_meta + 256 > data. RunXDPBatch took frames with more metadata, and
// the path the verifier proved dead ran: here a read through NULL (in
// checked mode; a trusted run would have faulted in the host). A frame
// with more metadata is refused; one with the most allowed runs.
func TestRunXDPBatchMetaLimit(t *testing.T) {
	prog, err := isa.Assemble(`
		ldxw r2, [r1+8]
		ldxw r3, [r1+0]
		add r2, 256
		jle r2, r3, dead
		mov r0, 2
		exit
	dead:
		mov r1, 0
		ldxdw r0, [r1+0]
		exit`)
	if err != nil {
		t.Fatal(err)
	}
	spec := &bpfhost.CollectionSpec{Programs: []*bpfhost.ProgramSpec{{Name: "meta", Section: "xdp", License: "GPL", Instructions: prog}}}
	for _, engine := range bpfhost.Engines() {
		coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: engine, Checked: true})
		if err != nil {
			t.Fatalf("%s: %v", engine, err)
		}
		h := bpfhost.XDPHeadroom
		page := make([]byte, bpfhost.XDPPageSize)
		batch := []bpfhost.XDPFrame{
			{Page: page, Meta: h - platform.MaxMetaSize - 1, Data: h, End: h + 60},
			{Page: page, Meta: h - platform.MaxMetaSize, Data: h, End: h + 60},
		}
		if _, err := coll.Programs["meta"].RunXDPBatch(batch); err != nil {
			t.Fatalf("%s: %v", engine, err)
		}
		if !errors.Is(batch[0].Err, bpfhost.ErrInvalid) || batch[0].Action != 0 {
			t.Errorf("%s: %d bytes of metadata: %v, action %d; want ErrInvalid", engine, platform.MaxMetaSize+1, batch[0].Err, batch[0].Action)
		}
		if batch[1].Err != nil || batch[1].Action != 2 {
			t.Errorf("%s: %d bytes of metadata: %v, action %d; want XDP_PASS", engine, platform.MaxMetaSize, batch[1].Err, batch[1].Action)
		}
		coll.Close()
	}
}
