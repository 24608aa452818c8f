package bpfhost_test

import (
	"errors"
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
)

// xdpSizeProgram is accepted because the verifier assumes an XDP packet
// holds at most platform.MaxPacketSize bytes (Linux's MAX_PACKET_OFF): data
// + 0x10000 is then past data_end, and the path that reads through NULL is
// dead. pre runs first (a helper call that may move the packet pointers).
func xdpSizeProgram(t *testing.T, pre string) *bpfhost.CollectionSpec {
	t.Helper()
	prog, err := isa.Assemble(`
		mov r6, r1
		` + pre + `
		ldxw r2, [r6+0]
		ldxw r3, [r6+4]
		add r2, 0x8000
		add r2, 0x8000
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
	return &bpfhost.CollectionSpec{Programs: []*bpfhost.ProgramSpec{{Name: "size", Section: "xdp", License: "GPL", Instructions: prog}}}
}

// TestRunXDPBatchPacketLimit: RunXDPBatch took frames of any size its
// page held, so a frame of more than platform.MaxPacketSize bytes (a jumbo
// frame of loopback's 64 KiB MTU) ran the path the verifier proved dead.
// Such a frame is refused; one of the most allowed runs.
func TestRunXDPBatchPacketLimit(t *testing.T) {
	spec := xdpSizeProgram(t, "")
	for _, engine := range bpfhost.Engines() {
		coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: engine, Checked: true})
		if err != nil {
			t.Fatalf("%s: %v", engine, err)
		}
		h := bpfhost.XDPHeadroom
		page := make([]byte, h+platform.MaxPacketSize+1+320)
		batch := []bpfhost.XDPFrame{
			{Page: page, Meta: h, Data: h, End: h + platform.MaxPacketSize + 1},
			{Page: page, Meta: h, Data: h, End: h + platform.MaxPacketSize},
		}
		if _, err := coll.Programs["size"].RunXDPBatch(batch); err != nil {
			t.Fatalf("%s: %v", engine, err)
		}
		if !errors.Is(batch[0].Err, bpfhost.ErrInvalid) || batch[0].Action != 0 {
			t.Errorf("%s: frame of %d bytes: %v, action %d; want ErrInvalid", engine, platform.MaxPacketSize+1, batch[0].Err, batch[0].Action)
		}
		if batch[1].Err != nil || batch[1].Action != 2 {
			t.Errorf("%s: frame of %d bytes: %v, action %d; want XDP_PASS", engine, platform.MaxPacketSize, batch[1].Err, batch[1].Action)
		}
		coll.Close()
	}
}

// TestXDPGrowPacketLimit: bpf_xdp_adjust_head and bpf_xdp_adjust_tail
// grew a frame of the most bytes allowed past platform.MaxPacketSize when
// its page had room, and the verifier, which assumes the limit after
// every helper that moves the packet, had proven the NULL read dead. The
// growth now fails (EINVAL, as for growth past the page), and the same
// growth of a smaller frame still succeeds.
func TestXDPGrowPacketLimit(t *testing.T) {
	for _, tt := range []struct{ name, call string }{
		{"adjust_head", "mov r1, r6\n mov r2, -8\n call 44"},
		{"adjust_tail", "mov r1, r6\n mov r2, 8\n call 65"},
	} {
		spec := xdpSizeProgram(t, tt.call+"\n mov r7, r0")
		for _, engine := range bpfhost.Engines() {
			coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: engine, Checked: true})
			if err != nil {
				t.Fatalf("%s %s: %v", tt.name, engine, err)
			}
			h := bpfhost.XDPHeadroom
			page := make([]byte, h+platform.MaxPacketSize+64+320)
			for _, n := range []int{platform.MaxPacketSize, platform.MaxPacketSize - 8} {
				batch := []bpfhost.XDPFrame{{Page: page, Meta: h, Data: h, End: h + n}}
				if _, err := coll.Programs["size"].RunXDPBatch(batch); err != nil {
					t.Fatalf("%s %s: %v", tt.name, engine, err)
				}
				f := batch[0]
				if f.Err != nil || f.Action != 2 {
					t.Fatalf("%s %s: frame of %d bytes: %v, action %d; want XDP_PASS", tt.name, engine, n, f.Err, f.Action)
				}
				want := n + 8
				if n == platform.MaxPacketSize {
					want = n // the growth failed
				}
				if got := f.End - f.Data; got != want {
					t.Errorf("%s %s: frame of %d bytes is %d after growing by 8, want %d", tt.name, engine, n, got, want)
				}
			}
			coll.Close()
		}
	}
}
