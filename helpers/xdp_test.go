package helpers

import (
	"bytes"
	"errors"
	"testing"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// xdpEnv makes a 512-byte buffer with 256 bytes of headroom, a 64-byte
// packet and metaLen bytes of metadata.
func xdpEnv(t *testing.T, metaLen int) (*env, *Run, *linux.XDPContext, uint64) {
	e := newEnv(t, vm.Checked)
	buf := make([]byte, 512)
	x := &linux.XDPContext{}
	base := addr(buf)
	x.Data, x.DataEnd = base+256, base+256+64
	x.DataMeta = x.Data - uint64(metaLen)
	run := &Run{Program: linux.XDP, Ctx: ptrOf(x), Packet: buf}
	e.rc.Value = run
	e.rc.Regions = append(e.rc.Regions, vm.RegionOf("packet", buf, true))
	return e, run, x, uint64(uintptr(run.Ctx))
}

func TestXDPAdjust(t *testing.T) {
	const head, pkt = 256, 64
	tests := []struct {
		name    string
		id      int32
		meta    int
		delta   int32
		want    int64
		data    int // expected data offset after the call, from the buffer start
		end     int
		metaOff int
	}{
		{"head grow", int32(linux.FnXdpAdjustHead), 0, -16, 0, head - 16, head + pkt, head - 16},
		{"head shrink", int32(linux.FnXdpAdjustHead), 0, 20, 0, head + 20, head + pkt, head + 20},
		{"head to xdp_frame room", int32(linux.FnXdpAdjustHead), 0, -(head - xdpFrameSize), 0, xdpFrameSize, head + pkt, xdpFrameSize},
		{"head into xdp_frame", int32(linux.FnXdpAdjustHead), 0, -(head - xdpFrameSize + 1), eINVAL, head, head + pkt, head},
		{"head keeps ETH_HLEN", int32(linux.FnXdpAdjustHead), 0, pkt - ethHLen, 0, head + pkt - ethHLen, head + pkt, head + pkt - ethHLen},
		{"head below ETH_HLEN", int32(linux.FnXdpAdjustHead), 0, pkt - ethHLen + 1, eINVAL, head, head + pkt, head},
		{"head with meta", int32(linux.FnXdpAdjustHead), 8, -8, 0, head - 8, head + pkt, head - 16},
		{"head meta needs room", int32(linux.FnXdpAdjustHead), 8, -(head - xdpFrameSize - 7), eINVAL, head, head + pkt, head - 8},
		{"tail shrink", int32(linux.FnXdpAdjustTail), 0, -50, 0, head, head + ethHLen, head},
		{"tail below ETH_HLEN", int32(linux.FnXdpAdjustTail), 0, -51, eINVAL, head, head + pkt, head},
		{"tail grow to the end", int32(linux.FnXdpAdjustTail), 0, 512 - head - pkt, 0, head, 512, head},
		{"tail past the end", int32(linux.FnXdpAdjustTail), 0, 512 - head - pkt + 1, eINVAL, head, head + pkt, head},
		{"meta 4", int32(linux.FnXdpAdjustMeta), 0, -4, 0, head, head + pkt, head - 4},
		{"meta 32", int32(linux.FnXdpAdjustMeta), 0, -32, 0, head, head + pkt, head - 32},
		{"meta 36", int32(linux.FnXdpAdjustMeta), 0, -36, eACCES, head, head + pkt, head},
		{"meta unaligned", int32(linux.FnXdpAdjustMeta), 0, -6, eACCES, head, head + pkt, head},
		{"meta past data", int32(linux.FnXdpAdjustMeta), 8, 12, eINVAL, head, head + pkt, head - 8},
		{"meta shrink", int32(linux.FnXdpAdjustMeta), 8, 4, 0, head, head + pkt, head - 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, run, x, cp := xdpEnv(t, tt.meta)
			for i := range run.Packet {
				run.Packet[i] = byte(i)
			}
			metaBefore := append([]byte(nil), run.Packet[head-tt.meta:head]...)
			r := e.mustCall(platform.HelperID(tt.id), cp, uint64(int64(tt.delta)))
			base := addr(run.Packet)
			got := []int{int(x.Data - base), int(x.DataEnd - base), int(x.DataMeta - base)}
			if r != tt.want || got[0] != tt.data || got[1] != tt.end || got[2] != tt.metaOff {
				t.Errorf("= %d, data/end/meta %v; want %d, %v", r, got, tt.want, []int{tt.data, tt.end, tt.metaOff})
			}
			if tt.id == int32(linux.FnXdpAdjustHead) && r == 0 && tt.meta > 0 {
				if m := run.Packet[got[2]:got[0]]; !bytes.Equal(m, metaBefore) {
					t.Errorf("metadata %x after move, want %x", m, metaBefore)
				}
			}
			if tt.id == int32(linux.FnXdpAdjustTail) && r == 0 && tt.delta > 0 {
				for _, c := range run.Packet[head+pkt : got[1]] {
					if c != 0 {
						t.Fatalf("grown tail not zeroed")
					}
				}
			}
		})
	}
}

func TestXDPMetaUnsupported(t *testing.T) {
	e, _, x, cp := xdpEnv(t, 0)
	x.DataMeta = x.Data + 1
	if r := e.mustCall(linux.FnXdpAdjustMeta, cp, neg64(-4)); r != eNOTSUPP {
		t.Errorf("adjust_meta without meta support = %d, want -ENOTSUPP", r)
	}
	e.mustCall(linux.FnXdpAdjustHead, cp, neg64(-4))
	if x.DataMeta != x.Data+1 {
		t.Error("adjust_head lost the meta-unsupported marker")
	}
}

func TestXDPBytesAndContextChecks(t *testing.T) {
	e, run, x, cp := xdpEnv(t, 0)
	copy(run.Packet[256:], "0123456789")
	b, bp := e.mem("buf", 8, true)
	if r := e.mustCall(linux.FnXdpLoadBytes, cp, 2, bp, 4); r != 0 || string(b[:4]) != "2345" {
		t.Errorf("xdp_load_bytes = %d, %q", r, b[:4])
	}
	copy(b, "abcd")
	if r := e.mustCall(linux.FnXdpStoreBytes, cp, 60, bp, 4); r != 0 || string(run.Packet[316:320]) != "abcd" {
		t.Errorf("xdp_store_bytes = %d", r)
	}
	if r := e.mustCall(linux.FnXdpStoreBytes, cp, 61, bp, 4); r != eINVAL {
		t.Errorf("store past the end = %d, want -EINVAL", r)
	}
	if r := e.mustCall(linux.FnXdpLoadBytes, cp, 0x10000, bp, 4); r != eFAULT {
		t.Errorf("load at 0x10000 = %d, want -EFAULT", r)
	}
	if r := e.mustCall(linux.FnXdpGetBuffLen, cp); r != 64 {
		t.Errorf("get_buff_len = %d", r)
	}
	// A context that is not the run's, or pointers outside the packet.
	if _, err := e.call(linux.FnXdpAdjustHead, cp+8, 0); !errors.Is(err, ErrContext) {
		t.Errorf("wrong ctx: %v", err)
	}
	x.DataEnd += 1000
	if _, err := e.call(linux.FnXdpAdjustTail, cp, 0); !errors.Is(err, ErrContext) {
		t.Errorf("data_end outside the buffer: %v", err)
	}
	e.rc.Value = nil
	if _, err := e.call(linux.FnXdpAdjustTail, cp, 0); !errors.Is(err, ErrNoRun) {
		t.Errorf("no Run: %v", err)
	}
}

// TestXDPProgram runs an XDP program that pushes a 4-byte header with
// bpf_xdp_adjust_head and writes it through the new data pointer.
func TestXDPProgram(t *testing.T) {
	e, run, x, cp := xdpEnv(t, 0)
	src := `
		mov %r6, %r1
		mov %r2, -4
		call 44
		jne %r0, 0, fail
		ldxdw %r2, [%r6+0]
		ldxdw %r3, [%r6+8]
		mov %r4, %r2
		add %r4, 4
		jgt %r4, %r3, fail
		stw [%r2+0], 0x11223344
		mov %r0, 2
		exit
	fail:
		mov %r0, 0
		exit`
	exe := compile(t, src, e.host, vm.Checked)
	e.rc.Args[0] = cp
	e.rc.Regions = append(e.rc.Regions, vm.Region{Start: uintptr(run.Ctx), Size: 40, Name: "context"})
	got, err := vm.Run(exe, e.rc)
	if err != nil || got != 2 {
		t.Fatalf("run = %d, %v", got, err)
	}
	if x.Data != addr(run.Packet)+252 || run.Packet[252] != 0x44 {
		t.Errorf("data at %d, first byte %#x", x.Data-addr(run.Packet), run.Packet[252])
	}
}

func TestRedirect(t *testing.T) {
	e, run, _, _ := xdpEnv(t, 0)
	if r := e.mustCall(linux.FnRedirect, 7, 0); r != xdpRedirect || run.Redirect != (Redirect{Set: true, Ifindex: 7}) {
		t.Errorf("xdp redirect = %d, %+v", r, run.Redirect)
	}
	if r := e.mustCall(linux.FnRedirect, 7, flagIngress); r != xdpAborted {
		t.Errorf("xdp redirect with flags = %d, want XDP_ABORTED", r)
	}
	run.Program, run.Redirect = linux.SchedCLS, Redirect{}
	if r := e.mustCall(linux.FnRedirect, 3, flagIngress); r != tcActRedirect || run.Redirect.Ifindex != 3 || run.Redirect.Flags != flagIngress {
		t.Errorf("tc redirect = %d, %+v", r, run.Redirect)
	}
	if r := e.mustCall(linux.FnRedirect, 3, 2); r != tcActShot {
		t.Errorf("tc redirect with bad flags = %d, want TC_ACT_SHOT", r)
	}

	run.Program, run.Redirect = linux.XDP, Redirect{}
	m, mp := e.newMap(maps.Spec{Name: "tx", Type: maps.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 4}, 1)
	if err := m.Update(u32(5), u32(1), 0); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		key, flags uint64
		want       uint64
		set        bool
	}{
		{5, 0, xdpRedirect, true},
		{6, 0, xdpAborted, false},
		{6, 2, 2, false}, // XDP_PASS on a miss
		{6, flagBroadcast, xdpRedirect, true},
		{5, 1 << 5, xdpAborted, false},
	} {
		run.Redirect = Redirect{}
		r := e.mustCall(linux.FnRedirectMap, mp, tt.key, tt.flags)
		if uint64(r) != tt.want || run.Redirect.Set != tt.set || (tt.set && (run.Redirect.Map != m || run.Redirect.Ifindex != uint32(tt.key))) {
			t.Errorf("redirect_map(%d, %#x) = %d, %+v", tt.key, tt.flags, r, run.Redirect)
		}
	}
}
