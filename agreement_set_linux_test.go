package bpfhost_test

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// randomPackets returns n packets of random bytes behind an Ethernet/IPv4
// header, of random lengths, for programs that compute over packet bytes.
func randomPackets(seed uint64, n int) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	var pkts [][]byte
	for i := 0; i < n; i++ {
		p := make([]byte, 14+rng.IntN(200))
		for j := range p {
			p[j] = byte(rng.Uint32())
		}
		binary.BigEndian.PutUint16(p[12:], 0x0800)
		pkts = append(pkts, p)
	}
	return pkts
}

// TestAgreementSet covers the rest of the agreement list: an LRU
// hash, bpf_csum_diff with an IP rewrite and XDP_TX, bounded loops and
// bpf_loop, BPF-to-BPF calls, every atomic on map values, ISA v4
// arithmetic, a socket filter with bpf_skb_load_bytes and skb->protocol, and
// a TC classifier reading and writing __sk_buff fields.
func TestAgreementSet(t *testing.T) {
	pkts := readPcapFile(t, "examples/traffic.pcap")
	mixed := append(append([][]byte{}, pkts...), randomPackets(7, 40)...)
	backends := map[string][][2][]byte{"backends": {
		hexKV("00000000", "0a640001"), hexKV("01000000", "0a640002"),
		hexKV("02000000", "0a640003"), hexKV("03000000", "0a640004"),
	}}
	cases := []struct {
		name string
		a    agreement
	}{
		{"load balancer", agreement{object: "testdata/agreement/lb.o", program: "xdp_lb", inputs: append(pkts, pkts...), mapInit: backends}},
		{"load balancer without backends", agreement{object: "testdata/agreement/lb.o", program: "xdp_lb", inputs: pkts}},
		{"loops", agreement{object: "testdata/agreement/loops.o", program: "xdp_loops", inputs: mixed}},
		{"atomics", agreement{object: "testdata/agreement/atomics.o", program: "xdp_atomics", inputs: mixed}},
		{"isa v4", agreement{object: "testdata/agreement/v4.o", program: "xdp_v4", inputs: mixed}},
		{"socket filter", agreement{object: "testdata/agreement/skb.o", program: "sock_filter", inputs: mixed}},
		{"tc classifier", agreement{object: "testdata/agreement/skb.o", program: "tc_classify", inputs: mixed}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { compareOutcomes(t, c.a) })
	}
}
