package bpfhost_test

import (
	"os"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/bpfhost/bpfhost"
)

// engines are the bpfhost engines every agreement case runs on; a
// "-checked" suffix runs the verified programs in checked mode as well.
var engines = []string{"interp", "jit", "jit-checked"}

// engineOptions are the collection options of one of engines.
func engineOptions(engine string) *bpfhost.CollectionOptions {
	name, checked := strings.CutSuffix(engine, "-checked")
	return &bpfhost.CollectionOptions{Engine: bpfhost.Engine(name), Checked: checked}
}

// readPcapFile returns the packets of a pcap file.
func readPcapFile(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var pkts [][]byte
	for {
		d, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		pkts = append(pkts, append([]byte(nil), d...))
	}
	return pkts
}
