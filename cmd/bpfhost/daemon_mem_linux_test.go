package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/internal/netnstest"
	"github.com/bpfhost/bpfhost/maps"
)

// TestDaemonMapMemorySurvivesKill: a program run writes the array "total";
// the array keeps its values in a memory file in the state directory, not
// in a log, so no snapshot ever holds them. Another process (this test)
// maps the file read-only and sees the program's stores; after SIGKILL and
// a restart the daemon maps the same file again (the test's old mapping
// sees the next run) and the value is there.
func TestDaemonMapMemorySurvivesKill(t *testing.T) {
	d := newTestDaemonProc(t)
	d.start()
	d.must("prog", "load", counterObj, "/bpf/counter", "pinmaps", "/bpf/maps")
	pkt := filepath.Join(t.TempDir(), "pkt")
	os.WriteFile(pkt, append([]byte{7}, make([]byte, 63)...), 0o644)
	d.must("prog", "run", "pinned", "/bpf/counter", "data_in", pkt, "repeat", "3")

	files, err := filepath.Glob(filepath.Join(d.state, "units", "*", "mem", "total"))
	if err != nil || len(files) != 1 {
		t.Fatalf("memory files of total: %v %v", files, err)
	}
	unitDir := filepath.Dir(filepath.Dir(files[0]))
	if out := d.must("-j", "map", "show", "pinned", "/bpf/maps/total"); !strings.Contains(out, `"memory_file":"`+files[0]+`"`) {
		t.Fatalf("map show does not name the memory file %s: %s", files[0], out)
	}
	if out := d.must("map", "show", "pinned", "/bpf/maps/counts"); !strings.Contains(out, "memory_file") {
		t.Fatalf("the hash map counts has no memory file: %s", out)
	}
	for _, name := range []string{"total", "counts"} {
		if _, err := os.Stat(filepath.Join(unitDir, "maps", name)); !os.IsNotExist(err) {
			t.Fatalf("%s has a log (%v): its contents would come from snapshots", name, err)
		}
	}
	mem, err := maps.OpenMemory(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	if l := mem.Layout(); l.Type != maps.Array || l.ValueSize != 8 || l.MaxEntries != 1 {
		t.Fatalf("layout %+v", l)
	}
	total := func() uint64 {
		v, err := mem.Value(0, 0)
		if err != nil {
			t.Fatal(err)
		}
		return binary.NativeEndian.Uint64(v)
	}
	if got := total(); got != 3 {
		t.Fatalf("total in the mapped file after 3 runs: %d", got)
	}

	d.kill()
	d.start()
	if got := d.must("-j", "map", "lookup", "pinned", "/bpf/maps/total", "key", "0", "0", "0", "0"); !strings.Contains(got, `"value":["0x03"`) {
		t.Fatalf("total after SIGKILL and restart: %s", got)
	}
	d.must("prog", "run", "pinned", "/bpf/counter", "data_in", pkt)
	if got := total(); got != 4 {
		t.Fatalf("total in the file mapped before the restart, after a 4th run: %d (the file was not reused)", got)
	}
	d.must("map", "update", "pinned", "/bpf/maps/total", "key", "0", "0", "0", "0", "value", "hex", "2a", "0", "0", "0", "0", "0", "0", "0")
	if got := total(); got != 42 {
		t.Fatalf("total in the mapped file after an API update: %d", got)
	}
	d.kill()
	d.start()
	if got := d.must("-j", "map", "lookup", "name", "total", "key", "0", "0", "0", "0"); !strings.Contains(got, `"value":["0x2a"`) {
		t.Fatalf("total after an API update, SIGKILL and restart: %s", got)
	}
	// Unpinning everything removes the unit and its memory files.
	for _, pin := range []string{"/bpf/counter", "/bpf/maps/counts", "/bpf/maps/total"} {
		d.must("unpin", pin)
	}
	if _, err := os.Stat(files[0]); !os.IsNotExist(err) {
		t.Fatalf("memory file after unpinning all: %v", err)
	}
}

// TestDaemonMapMemoryXDPKill: frames run the counter through an XDP link,
// which never snapshots anything; the daemon is killed with SIGKILL, and
// after the restart the array holds every count the program made and the
// hash map every entry (a count per first byte of a frame) it inserted or
// incremented, as the memory files held them at the kill.
func TestDaemonMapMemoryXDPKill(t *testing.T) {
	netnstest.Require(t)
	d := newTestDaemonProc(t)
	mid, n1 := netnstest.New(t), netnstest.New(t)
	a0, e1 := netnstest.Uniq("ma"), netnstest.Uniq("me")
	netnstest.Veth(t, mid, a0, n1, e1)
	n1.IP(t, "addr", "add", "10.82.0.1/24", "dev", e1)
	n1.IP(t, "neigh", "replace", "10.82.0.2", "lladdr", "02:00:00:00:00:02", "dev", e1, "nud", "permanent")
	d.prefix = []string{"ip", "netns", "exec", mid.Name}
	d.start()
	d.must("prog", "load", counterObj, "/x/counter", "pinmaps", "/x/maps")
	d.must("net", "attach", "xdp", "pinned", "/x/counter", "dev", a0)
	n1.Do(t, func() error {
		c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IP{10, 82, 0, 2}, Port: 9})
		if err != nil {
			return err
		}
		defer c.Close()
		for i := 0; i < 5; i++ {
			if _, err := c.Write([]byte("hello")); err != nil {
				return err
			}
		}
		return nil
	})
	files, err := filepath.Glob(filepath.Join(d.state, "units", "*", "mem", "total"))
	if err != nil || len(files) != 1 {
		t.Fatalf("memory files of total: %v %v", files, err)
	}
	mem, err := maps.OpenMemory(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	total := func() uint64 {
		v, err := mem.Value(0, 0)
		if err != nil {
			t.Fatal(err)
		}
		return binary.NativeEndian.Uint64(v)
	}
	counts := filepath.Join(filepath.Dir(files[0]), "counts")
	sumOf := func(m map[uint32]uint64) (n uint64) {
		for _, v := range m {
			n += v
		}
		return n
	}
	// Wait until the program has run on the 5 frames and the last run has
	// written both maps (a frame in flight at the kill may have counted
	// in one and not yet in the other). The namespaces send nothing else
	// (no IPv6, a static neighbour).
	for deadline := time.Now().Add(settle); total() < 5 || sumOf(countsInFile(t, counts)) != total(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("total %d, counts %v after sending 5 frames", total(), countsInFile(t, counts))
		}
	}
	before := countsInFile(t, counts)
	if len(before) == 0 {
		t.Fatalf("the hash map's memory file has no entries after %d frames", total())
	}
	d.kill()
	want := total()
	wantCounts := countsInFile(t, counts)
	d.start()
	got := d.must("-j", "map", "lookup", "pinned", "/x/maps/total", "key", "0", "0", "0", "0")
	if !strings.Contains(got, fmt.Sprintf(`"value":["0x%02x"`, want)) {
		t.Fatalf("total after SIGKILL and restart: %s, want %d", got, want)
	}
	var sum uint64
	gotCounts := map[uint32]uint64{}
	for _, e := range dumpEntries(t, d.must("-j", "map", "dump", "pinned", "/x/maps/counts")) {
		gotCounts[binary.NativeEndian.Uint32(e.key)] = binary.NativeEndian.Uint64(e.value)
		sum += binary.NativeEndian.Uint64(e.value)
	}
	if fmt.Sprint(gotCounts) != fmt.Sprint(wantCounts) || sum != want {
		t.Fatalf("counts after SIGKILL and restart: %v (sum %d), the file held %v at the kill; total %d", gotCounts, sum, wantCounts, want)
	}
}

// countsInFile reads the counter's hash map from its memory file, as
// another process can: the entries in use, by key.
func countsInFile(t *testing.T, path string) map[uint32]uint64 {
	t.Helper()
	mem, err := maps.OpenMemory(path)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	out := map[uint32]uint64{}
	for i := range mem.Layout().MaxEntries {
		k, ok, err := mem.Entry(i)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			continue
		}
		v, err := mem.Value(i, 0)
		if err != nil {
			t.Fatal(err)
		}
		out[binary.NativeEndian.Uint32(k)] = binary.NativeEndian.Uint64(v)
	}
	return out
}

// dumpEntry is one entry of `map dump -j`.
type dumpEntry struct{ key, value []byte }

// dumpEntries decodes the entries of `map dump -j` (bpftool's hex strings).
func dumpEntries(t *testing.T, out string) []dumpEntry {
	t.Helper()
	var raw []struct {
		Key   []string `json:"key"`
		Value []string `json:"value"`
	}
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("dump %q: %v", out, err)
	}
	hexBytes := func(s []string) []byte {
		var b []byte
		for _, x := range s {
			v, err := strconv.ParseUint(strings.TrimPrefix(x, "0x"), 16, 8)
			if err != nil {
				t.Fatalf("dump byte %q: %v", x, err)
			}
			b = append(b, byte(v))
		}
		return b
	}
	var es []dumpEntry
	for _, r := range raw {
		es = append(es, dumpEntry{hexBytes(r.Key), hexBytes(r.Value)})
	}
	return es
}
