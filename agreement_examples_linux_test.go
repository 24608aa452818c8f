package bpfhost_test

import "testing"

// TestAgreementExamples runs the examples over the sample traffic in the
// Linux kernel and in bpfhost and compares every retval, output packet and
// final map.
func TestAgreementExamples(t *testing.T) {
	pkts := readPcapFile(t, "examples/traffic.pcap")
	blocklist := map[string][][2][]byte{
		"blocklist_v4": {hexKV("18000000cb007100", "01000000"), hexKV("20000000c6336409", "02000000")},
		"blocklist_v6": {hexKV("3000000020010db80bad00000000000000000000", "03000000")},
	}
	cases := []struct {
		name string
		a    agreement
	}{
		{"firewall", agreement{object: "examples/firewall.o", program: "xdp_firewall", inputs: pkts, mapInit: blocklist}},
		{"firewall without rules", agreement{object: "examples/firewall.o", program: "xdp_firewall", inputs: pkts}},
		{"events", agreement{object: "examples/events.o", program: "xdp_events", inputs: pkts, mask: [][2]int{{0, 8}}}},
		{"dispatcher", agreement{object: "examples/dispatcher.o", program: "xdp_dispatch", inputs: pkts, skipMaps: []string{"jump_table"}}},
		{"config defaults", agreement{object: "examples/config.o", program: "xdp_config", inputs: pkts}},
		{"config set", agreement{object: "examples/config.o", program: "xdp_config", inputs: pkts,
			constants: map[string]any{"blocked_port": uint16(53), "sample_every": uint32(3), "verdict_on_match": uint32(3)}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { compareOutcomes(t, c.a) })
	}
}
