package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

// TestRunPcapOut: run --pcap-out writes each run's output packet, in order,
// and nothing for a refused run.
func TestRunPcapOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.pcapng")
	out, code := cli(t, "run", examples+"firewall.o", "--program", "xdp_firewall", "--pcap", examples+"traffic.pcap",
		"--map-init", examples+"firewall-blocklist.json", "--pcap-out", path, "--json")
	if code != 2 { // packet 13 is a runt the test run refuses
		t.Fatalf("exit %d: %s", code, out)
	}
	var res runOutput
	if err := json.NewDecoder(strings.NewReader(out)).Decode(&res); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		d, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, hex.EncodeToString(d))
	}
	var want []string
	for _, run := range res.Runs {
		if run.Error == "" {
			want = append(want, run.DataOut)
		}
	}
	if len(want) != 12 || len(got) != len(want) {
		t.Fatalf("%d packets in the pcapng, want %d (runs %d)", len(got), len(want), len(res.Runs))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("packet %d: %s, want %s", i+1, got[i], want[i])
		}
	}
	if intf, err := r.Interface(0); err != nil || intf.Name != "bpfhost-run" {
		t.Errorf("interface 0: %+v, %v", intf, err)
	}
}
