package bpfhost_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost"
)

// TestTimerFromBTF checks that the struct bpf_timer BTF places in a map
// value reaches every reader of the map's description: the spec, the
// verifier (the timer helpers take exactly its address) and the map
// (copies from user space leave it alone and read it as zero).
func TestTimerFromBTF(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("testdata/cli/timer.o")
	if err != nil {
		t.Fatal(err)
	}
	ms := spec.Map("timers")
	if ms == nil || !ms.HasTimer || ms.TimerOffset != 8 {
		t.Fatalf("timers spec: %+v, want a timer at offset 8", ms)
	}
	info, _, err := bpfhost.ProgramType(spec.Program("tc_timer_init"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := bpfhost.VerifyProgram(spec, spec.Program("tc_timer_init"), info, nil); err != nil {
		t.Errorf("tc_timer_init: %v; want accepted", err)
	}
	err = bpfhost.VerifyProgram(spec, spec.Program("tc_timer_wrong"), info, nil)
	var ve *bpfhost.VerifierError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "needs the bpf_timer of map timers's value at offset 8") {
		t.Errorf("tc_timer_wrong: %v; want rejected for the timer's place", err)
	}

	coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Programs: []string{"tc_count"}})
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	in := bytes.Repeat([]byte{0xff}, 32)
	if err := coll.Maps["timers"].Put(uint32(0), in); err != nil {
		t.Fatal(err)
	}
	got, err := coll.Maps["timers"].LookupBytes(uint32(0))
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte{0xff}, 32)
	clear(want[8:24])
	if !bytes.Equal(got, want) {
		t.Errorf("lookup %x, want %x (the timer reads as zero)", got, want)
	}
}
