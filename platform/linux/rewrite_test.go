package linux

import (
	"encoding/binary"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
)

func assemble(t *testing.T, src string) isa.Instruction {
	t.Helper()
	prog, err := isa.Assemble(src)
	if err != nil {
		t.Fatalf("assemble %q: %v", src, err)
	}
	return prog[0]
}

// TestRewriteExamples shows the rewrite of typical context accesses.
func TestRewriteExamples(t *testing.T) {
	a := testABI(t)
	tests := []struct {
		section, in, want string
	}{
		{"xdp", "ldxw %r2, [%r1+0]", "ldxdw %r2, [%r1+0]"},                   // data
		{"xdp", "ldxw %r3, [%r1+4]", "ldxdw %r3, [%r1+8]"},                   // data_end
		{"xdp", "ldxw %r4, [%r1+8]", "ldxdw %r4, [%r1+16]"},                  // data_meta
		{"xdp", "ldxw %r5, [%r1+12]", "ldxw %r5, [%r1+24]"},                  // ingress_ifindex
		{"xdp", "ldxw %r5, [%r1+16]", "ldxw %r5, [%r1+28]"},                  // rx_queue_index
		{"xdp/devmap", "ldxw %r5, [%r1+20]", "ldxw %r5, [%r1+32]"},           // egress_ifindex
		{"tc", "ldxw %r2, [%r6+76]", "ldxdw %r2, [%r6+152]"},                 // data
		{"tc", "ldxw %r3, [%r6+80]", "ldxdw %r3, [%r6+160]"},                 // data_end
		{"tc", "ldxw %r3, [%r6+140]", "ldxdw %r3, [%r6+168]"},                // data_meta
		{"tc", "ldxw %r0, [%r1+0]", "ldxw %r0, [%r1+0]"},                     // len
		{"tc", "ldxh %r0, [%r1+16]", "ldxh %r0, [%r1+16]"},                   // protocol, narrow
		{"tc", "ldxb %r0, [%r1+19]", "ldxb %r0, [%r1+19]"},                   // protocol, last byte
		{"tc", "stxw [%r1+8], %r2", "stxw [%r1+8], %r2"},                     // mark
		{"tc", "stxdw [%r1+56], %r2", "stxdw [%r1+56], %r2"},                 // cb[2..3]
		{"tc", "ldxw %r0, [%r1+84]", "ldxw %r0, [%r1+76]"},                   // napi_id
		{"tc", "ldxdw %r0, [%r1+152]", "ldxdw %r0, [%r1+184]"},               // tstamp
		{"tc", "stxdw [%r1+152], %r3", "stxdw [%r1+184], %r3"},               // tstamp write
		{"tc", "ldxdw %r0, [%r1+168]", "ldxdw %r0, [%r1+192]"},               // sk
		{"tc", "ldxb %r0, [%r1+180]", "ldxb %r0, [%r1+144]"},                 // tstamp_type
		{"cgroup_skb/ingress", "ldxw %r0, [%r1+92]", "ldxw %r0, [%r1+84]"},   // remote_ip4
		{"cgroup_skb/ingress", "ldxw %r0, [%r1+104]", "ldxw %r0, [%r1+96]"},  // remote_ip6[1]
		{"cgroup_skb/ingress", "ldxh %r0, [%r1+134]", "ldxh %r0, [%r1+126]"}, // remote_port, high half
		{"flow_dissector", "ldxdw %r2, [%r1+144]", "ldxdw %r2, [%r1+176]"},   // flow_keys
		{"cgroup/connect4", "stxw [%r1+4], %r2", "stxw [%r1+4], %r2"},        // user_ip4: identity layout
		{"cgroup/connect6", "ldxdw %r2, [%r1+16]", "ldxdw %r2, [%r1+16]"},    // user_ip6[2..3]
	}
	for _, tt := range tests {
		p, ok := a.Lookup(tt.section)
		if !ok {
			t.Fatalf("no program type for %s", tt.section)
		}
		got, err := platform.RewriteInstruction(assemble(t, tt.in), p.Context)
		if err != nil {
			t.Errorf("%s: %s: %v", tt.section, tt.in, err)
			continue
		}
		if want := assemble(t, tt.want); got != want {
			t.Errorf("%s: %s became %s, want %s", tt.section, tt.in, got.Text(), tt.want)
		}
	}
}

var sizeCodes = map[int]isa.Size{1: isa.SizeB, 2: isa.SizeH, 4: isa.SizeW, 8: isa.SizeDW}

func le(b []byte) uint64 {
	var v [8]byte
	copy(v[:], b)
	return binary.LittleEndian.Uint64(v[:])
}

// TestRewritePreservesMeaning runs every allowed load and store of every
// hosted context, in every width and at every aligned offset, against a
// Linux-layout image and, rewritten, against a host-layout image holding
// the same values, and checks that they read and write the same bytes (and
// that packet pointer loads yield the full host pointer).
func TestRewritePreservesMeaning(t *testing.T) {
	a := testABI(t)
	seen := map[*platform.ContextDescriptor]bool{}
	loads, stores := 0, 0
	for _, p := range a.Programs() {
		d := p.Context
		if d == nil || d.Host == nil || seen[d] {
			continue
		}
		seen[d] = true
		linux := make([]byte, d.Size)
		host := make([]byte, d.Host.Size)
		pointers := map[string]uint64{}
		for i, f := range d.Fields {
			hf, _ := d.Host.Field(f.Name)
			if f.Kind.IsPointer() {
				pointers[f.Name] = 0x7f00_0000_0000 + uint64(i)*0x1111_1111
				binary.LittleEndian.PutUint64(host[hf.Offset:], pointers[f.Name])
				continue
			}
			for k := 0; k < f.End()-f.Offset; k++ {
				v := byte(i*31 + k*7 + 1)
				linux[f.Offset+k] = v
				host[hf.Offset+k] = v
			}
		}
		for _, f := range d.Fields {
			hf, _ := d.Host.Field(f.Name)
			for _, n := range []int{1, 2, 4, 8} {
				for off := f.Offset - f.Offset%n; off < f.End(); off += n {
					for _, write := range []bool{false, true} {
						if _, err := d.Check(off, n, write); err != nil {
							continue
						}
						var ins isa.Instruction
						if write {
							ins = isa.Instruction{Opcode: isa.Opcode(isa.ClassSTX) | isa.Opcode(isa.ModeMEM) | isa.Opcode(sizeCodes[n]), Dst: 1, Src: 2, Offset: int16(off)}
						} else {
							ins = isa.Instruction{Opcode: isa.Opcode(isa.ClassLDX) | isa.Opcode(isa.ModeMEM) | isa.Opcode(sizeCodes[n]), Dst: 2, Src: 1, Offset: int16(off)}
						}
						got, err := platform.RewriteInstruction(ins, d)
						if err != nil {
							t.Errorf("%s: %s: %v", p, ins.Text(), err)
							continue
						}
						hoff, hsize := int(got.Offset), got.Opcode.Size().Bytes()
						if hoff < hf.Offset || hoff+hsize > hf.Offset+hf.Size {
							t.Errorf("%s: %s became %s, outside host field %s", p, ins.Text(), got.Text(), f.Name)
							continue
						}
						if got.Dst != ins.Dst || got.Src != ins.Src || got.Opcode.Class() != ins.Opcode.Class() {
							t.Errorf("%s: %s became %s: registers or class changed", p, ins.Text(), got.Text())
						}
						if write {
							stores++
							pattern := []byte{0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18}[:n]
							l2 := append([]byte(nil), linux...)
							h2 := append([]byte(nil), host...)
							copy(l2[off:], pattern)
							copy(h2[hoff:], pattern)
							if string(l2[f.Offset:f.End()]) != string(h2[hf.Offset:hf.Offset+f.End()-f.Offset]) {
								t.Errorf("%s: store %s (host %s) writes different bytes", p, ins.Text(), got.Text())
							}
							continue
						}
						loads++
						want := le(linux[off : off+n])
						if f.Kind.IsPointer() {
							want = pointers[f.Name]
						}
						if v := le(host[hoff : hoff+hsize]); v != want {
							t.Errorf("%s: %s (host %s) loads %#x, want %#x", p, ins.Text(), got.Text(), v, want)
						}
					}
				}
			}
		}
	}
	if loads < 500 || stores < 50 {
		t.Errorf("only %d loads and %d stores checked", loads, stores)
	}
	t.Logf("%d hosted contexts, %d loads and %d stores checked", len(seen), loads, stores)
}
