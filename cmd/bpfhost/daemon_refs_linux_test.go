package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ipv4Packet is an Ethernet frame with an IPv4 header of protocol proto
// and 20 more bytes whose first four are the ports 1000 and dport.
func ipv4Packet(proto byte, dport uint16) []byte {
	b := make([]byte, 14+20+20)
	b[12], b[13] = 0x08, 0x00 // ETH_P_IP
	ip := b[14:]
	ip[0] = 0x45
	ip[2], ip[3] = 0, 40
	ip[8] = 64
	ip[9] = proto
	copy(ip[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	l4 := ip[20:]
	l4[0], l4[1] = 0x03, 0xe8
	l4[2], l4[3] = byte(dport>>8), byte(dport)
	l4[12] = 0x50
	return b
}

// TestDaemonProgArraySurvivesKill sets tail-call targets of the dispatcher
// example through the CLI, as bpftool takes them ("value pinned PROG"), one
// of them a program of another object that is then unpinned, deletes a
// static entry, kills the daemon with SIGKILL and starts it again: the
// dispatcher still tail-calls where it was told to.
func TestDaemonProgArraySurvivesKill(t *testing.T) {
	d := newTestDaemonProc(t)
	d.start()
	d.must("prog", "loadall", "../../examples/dispatcher.o", "/bpf/d", "pinmaps", "/bpf/dm")
	d.must("prog", "loadall", "../../daemon/testdata/refs.o", "/bpf/r")
	dir := t.TempDir()
	pkts := map[string]string{}
	for name, p := range map[string][]byte{"telnet": ipv4Packet(6, 23), "udp": ipv4Packet(17, 53), "icmp": ipv4Packet(1, 0)} {
		pkts[name] = filepath.Join(dir, name)
		if err := os.WriteFile(pkts[name], p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(pkt string) string {
		t.Helper()
		var res struct {
			Retval int `json:"retval"`
		}
		out := d.must("-j", "prog", "run", "pinned", "/bpf/d/xdp_dispatch", "data_in", pkts[pkt])
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("run: %q: %v", out, err)
		}
		return []string{"aborted", "drop", "pass", "tx", "redirect"}[res.Retval]
	}
	// The object's own table: TCP to 23 dropped, UDP passed, ICMP sent back.
	want := map[string]string{"telnet": "drop", "udp": "pass", "icmp": "tx"}
	for pkt, v := range want {
		if got := run(pkt); got != v {
			t.Fatalf("%s before any update: %s, want %s", pkt, got, v)
		}
	}
	d.must("map", "update", "pinned", "/bpf/dm/jump_table", "key", "6", "0", "0", "0", "value", "pinned", "/bpf/d/handle_udp")
	d.must("map", "update", "pinned", "/bpf/dm/jump_table", "key", "17", "0", "0", "0", "value", "pinned", "/bpf/r/to_drop")
	d.must("map", "delete", "pinned", "/bpf/dm/jump_table", "key", "1", "0", "0", "0")
	for _, p := range []string{"entry", "to_drop", "to_tx", "egress", "on_cpu", "lookup_houter"} {
		d.must("unpin", "/bpf/r/"+p)
	}
	want = map[string]string{"telnet": "pass", "udp": "drop", "icmp": "pass"}
	for pkt, v := range want {
		if got := run(pkt); got != v {
			t.Fatalf("%s after the updates: %s, want %s", pkt, got, v)
		}
	}
	udpID := progID(t, d.must("-j", "prog", "show", "pinned", "/bpf/d/handle_udp"))
	lookup := d.must("-j", "map", "lookup", "pinned", "/bpf/dm/jump_table", "key", "6", "0", "0", "0")
	if wantV := fmt.Sprintf(`"value":["0x%02x"`, udpID); !strings.Contains(lookup, wantV) {
		t.Fatalf("lookup %s, want the ID of handle_udp (%d)", lookup, udpID)
	}
	dump := d.must("-j", "map", "dump", "pinned", "/bpf/dm/jump_table")

	d.kill()
	d.start()
	for pkt, v := range want {
		if got := run(pkt); got != v {
			t.Fatalf("%s after SIGKILL and restart: %s, want %s\ndaemon log:\n%s", pkt, got, v, d.stderr)
		}
	}
	// The same entries, naming the same programs (by their new IDs).
	names := func(dump string) []string {
		var entries []struct {
			Key   []string `json:"key"`
			Value []string `json:"value"`
		}
		if err := json.Unmarshal([]byte(dump), &entries); err != nil {
			t.Fatalf("dump %q: %v", dump, err)
		}
		var out []string
		for _, e := range entries {
			var id uint32
			fmt.Sscanf(e.Value[0], "0x%x", &id)
			var p struct {
				Name string `json:"name"`
			}
			json.Unmarshal([]byte(d.must("-j", "prog", "show", "id", fmt.Sprint(id))), &p)
			out = append(out, e.Key[0]+"="+p.Name)
		}
		return out
	}
	after := d.must("-j", "map", "dump", "pinned", "/bpf/dm/jump_table")
	if a, b := strings.Join(names(after), " "), "0x06=handle_udp 0x11=to_drop"; a != b {
		t.Fatalf("jump_table after restart: %s, want %s (before: %s)", a, b, dump)
	}
}

func progID(t *testing.T, show string) uint32 {
	t.Helper()
	var p struct {
		ID uint32 `json:"id"`
	}
	if err := json.Unmarshal([]byte(show), &p); err != nil || p.ID == 0 {
		t.Fatalf("prog show %q: %v", show, err)
	}
	return p.ID
}
