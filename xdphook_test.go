package bpfhost_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost"
)

func loadHookObject(t *testing.T) *bpfhost.Collection {
	t.Helper()
	spec, err := bpfhost.LoadCollectionSpec("hooks/xdp/testdata/hook.o")
	if err != nil {
		t.Fatal(err)
	}
	coll, err := bpfhost.NewCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { coll.Close() })
	return coll
}

// TestRunXDPBatch: a batch run gives each frame the verdict and output a
// test run gives it, with the frame's interface in the context, and moves
// the frame's offsets as the adjust helpers moved them.
func TestRunXDPBatch(t *testing.T) {
	coll := loadHookObject(t)
	frames := readPcapFile(t, "examples/traffic.pcap")
	for _, name := range []string{"xdp_encap", "xdp_udp_echo", "xdp_pass"} {
		prog := coll.Programs[name]
		var batch []bpfhost.XDPFrame
		var inputs [][]byte
		for _, f := range frames {
			if len(f) < 14 {
				continue
			}
			page := make([]byte, bpfhost.XDPPageSize)
			copy(page[bpfhost.XDPHeadroom:], f)
			h := bpfhost.XDPHeadroom
			batch = append(batch, bpfhost.XDPFrame{Page: page, Meta: h, Data: h, End: h + len(f), IngressIfindex: 7})
			inputs = append(inputs, f)
		}
		start := time.Now()
		if _, err := prog.RunXDPBatch(batch); err != nil {
			t.Fatal(err)
		}
		elapsed := time.Since(start)
		var sum time.Duration
		for i, f := range batch {
			// Each frame is timed; together no longer than the batch.
			if f.Duration <= 0 {
				t.Errorf("%s frame %d: duration %v", name, i, f.Duration)
			}
			sum += f.Duration
			ret, out, err := prog.Test(inputs[i])
			if err != nil || f.Err != nil {
				t.Fatalf("%s frame %d: %v, %v", name, i, err, f.Err)
			}
			// The test run's output has the metadata in front.
			got := f.Page[f.Meta:f.End]
			if f.Action != ret || !bytes.Equal(got, out) {
				t.Errorf("%s frame %d: action %d, %x; test run %d, %x", name, i, f.Action, got, ret, out)
			}
			if name == "xdp_encap" && inputs[i][12] == 8 && inputs[i][13] == 0 && (f.Data != bpfhost.XDPHeadroom-20 || f.Data-f.Meta != 4) {
				t.Errorf("encap frame %d: data at %d, meta %d bytes; want data 20 bytes into the headroom, 4 bytes of metadata", i, f.Data, f.Data-f.Meta)
			}
		}
		if sum > elapsed {
			t.Errorf("%s: frames timed %v in all, the batch took %v", name, sum, elapsed)
		}
	}
	// xdp_pass counts frames by ingress_ifindex: the frames' 7.
	var n uint64
	if err := coll.Maps["seen"].Lookup(uint32(7), &n); err != nil || n == 0 {
		t.Errorf("seen[7] = %d, %v: the batch's ingress_ifindex did not reach the program", n, err)
	}
}

func TestRunXDPBatchErrors(t *testing.T) {
	coll := loadHookObject(t)
	prog := coll.Programs["xdp_pass"]
	page := make([]byte, bpfhost.XDPPageSize)
	batch := []bpfhost.XDPFrame{
		{Page: page, Meta: 0, Data: 0, End: 60},                                     // no headroom
		{Page: page, Meta: 256, Data: 256, End: bpfhost.XDPPageSize + 1},            // past the page
		{Page: page, Meta: 256, Data: 256, End: 316, IngressIfindex: 1, Action: 99}, // fine
	}
	if _, err := prog.RunXDPBatch(batch); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if !errors.Is(batch[i].Err, bpfhost.ErrInvalid) || batch[i].Action != 0 {
			t.Errorf("frame %d: %v, action %d; want ErrInvalid and XDP_ABORTED", i, batch[i].Err, batch[i].Action)
		}
	}
	if batch[2].Err != nil || batch[2].Action != 2 {
		t.Errorf("frame 2: %v, action %d; want XDP_PASS", batch[2].Err, batch[2].Action)
	}
}
