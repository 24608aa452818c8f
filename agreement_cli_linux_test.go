package bpfhost_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// TestAgreementCLI checks the issue's criterion literally: `bpfhost run
// --pcap … --map-init … --json` gives the kernel's retval and output packet
// for every packet and the kernel's final map contents.
func TestAgreementCLI(t *testing.T) {
	requireKernel(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "bpfhost")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/bpfhost").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	pkts := readPcapFile(t, "examples/traffic.pcap")
	mixed := append(append([][]byte{}, pkts...), randomPackets(11, 30)...)
	blocklist := map[string][][2][]byte{
		"blocklist_v4": {hexKV("18000000cb007100", "01000000"), hexKV("20000000c6336409", "02000000")},
		"blocklist_v6": {hexKV("3000000020010db80bad00000000000000000000", "03000000")},
	}
	backends := map[string][][2][]byte{"backends": {hexKV("00000000", "0a640001"), hexKV("01000000", "0a640002"), hexKV("02000000", "0a640003"), hexKV("03000000", "0a640004")}}
	cases := []agreement{
		{object: "examples/firewall.o", program: "xdp_firewall", inputs: pkts, mapInit: blocklist},
		{object: "examples/events.o", program: "xdp_events", inputs: pkts, mask: [][2]int{{0, 8}}},
		{object: "examples/dispatcher.o", program: "xdp_dispatch", inputs: pkts, skipMaps: []string{"jump_table"}},
		{object: "examples/config.o", program: "xdp_config", inputs: pkts},
		{object: "testdata/agreement/lb.o", program: "xdp_lb", inputs: append(pkts, pkts...), mapInit: backends},
		{object: "testdata/agreement/loops.o", program: "xdp_loops", inputs: mixed},
		{object: "testdata/agreement/atomics.o", program: "xdp_atomics", inputs: mixed},
		{object: "testdata/agreement/v4.o", program: "xdp_v4", inputs: mixed},
		{object: "testdata/agreement/skb.o", program: "sock_filter", inputs: mixed},
		{object: "testdata/agreement/skb.o", program: "tc_classify", inputs: mixed},
		{object: "testdata/agreement/skb.o", program: "tc_pull", inputs: mixed},
	}
	for i, a := range cases {
		for _, engine := range engines {
			t.Run(a.program+"/"+string(engine), func(t *testing.T) {
				pcap := filepath.Join(dir, "in.pcap")
				writePcap(t, pcap, a.inputs)
				name, checked := strings.CutSuffix(engine, "-checked")
				args := []string{"run", a.object, "--program", a.program, "--pcap", pcap, "--json", "--engine", name}
				if checked {
					args = append(args, "--checked")
				}
				if a.mapInit != nil {
					init := filepath.Join(dir, "init.json")
					writeMapInit(t, init, a.mapInit)
					args = append(args, "--map-init", init)
				}
				out, err := exec.Command(bin, args...).Output()
				// Exit 2: some packets were refused (runts), as the kernel
				// refuses them; the runs below say which.
				var exit *exec.ExitError
				if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 2) {
					t.Fatalf("case %d: bpfhost %v: %v", i, args, err)
				}
				var res struct {
					Runs []struct {
						Retval  uint32 `json:"retval"`
						DataOut string `json:"data_out"`
						Error   string `json:"error"`
					} `json:"runs"`
					Maps map[string][]struct {
						Key    string   `json:"key"`
						Value  string   `json:"value"`
						Values []string `json:"values"`
					} `json:"maps"`
					// All-zero array entries the CLI counts instead of printing.
					MapsOmitted map[string]struct {
						Zero uint64 `json:"zero"`
					} `json:"maps_omitted"`
				}
				if err := json.Unmarshal(out, &res); err != nil {
					t.Fatal(err)
				}
				k := runKernel(t, a)
				if len(res.Runs) != len(k.runs) {
					t.Fatalf("%d runs, kernel %d", len(res.Runs), len(k.runs))
				}
				for j, r := range res.Runs {
					got := "error"
					if r.Error == "" {
						got = "retval " + strconv.FormatUint(uint64(r.Retval), 10) + " data " + r.DataOut
					}
					if got != k.runs[j] {
						t.Errorf("packet %d:\n kernel  %s\n bpfhost %s", j+1, k.runs[j], got)
					}
				}
				for name, want := range k.maps {
					if res.MapsOmitted[name].Zero > 0 {
						want = nonZeroEntries(want)
					}
					var got []string
					records := false // ring buffer records keep their order
					for _, e := range res.Maps[name] {
						switch {
						case e.Key == "" && e.Value != "": // ring buffer record
							records = true
							b, _ := hex.DecodeString(e.Value)
							got = append(got, hex.EncodeToString(masked(b, a.mask)))
						case e.Values != nil:
							got = append(got, e.Key+"="+perCPUSummary(e.Values))
						default:
							got = append(got, e.Key+"="+e.Value)
						}
					}
					if !records {
						sort.Strings(got)
					}
					if len(got) == 0 && len(want) == 0 {
						continue
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("map %q:\n kernel  %v\n bpfhost %v", name, want, got)
					}
				}
			})
		}
	}
}

// nonZeroEntries drops the "key=value" lines whose value is all zero (per-CPU
// summaries included), as the CLI leaves zero array entries out.
func nonZeroEntries(entries []string) []string {
	var out []string
	for _, e := range entries {
		_, v, _ := strings.Cut(e, "=")
		if strings.Trim(v, "0[] ,") != "" {
			out = append(out, e)
		}
	}
	return out
}

func writePcap(t *testing.T, path string, pkts [][]byte) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, 0), CaptureLength: len(p), Length: len(p)}
		if err := w.WritePacket(ci, p); err != nil {
			t.Fatal(err)
		}
	}
}

func writeMapInit(t *testing.T, path string, init map[string][][2][]byte) {
	type entry struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	out := map[string][]entry{}
	for name, kvs := range init {
		for _, kv := range kvs {
			out[name] = append(out[name], entry{hex.EncodeToString(kv[0]), hex.EncodeToString(kv[1])})
		}
	}
	b, _ := json.Marshal(out)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
