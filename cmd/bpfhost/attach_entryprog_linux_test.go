package main

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost/internal/ethtool"
)

const hookObject = "../../hooks/xdp/testdata/hook.o"

// le32 is v as the hex of a little-endian (native on amd64 and arm64) u32.
func le32(v int) string {
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], uint32(v))
	return hex.EncodeToString(b[:])
}

// writeInit writes a --map-init file and returns its path.
func writeInit(t *testing.T, doc string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "init.json")
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAttachXDPMapInitEntryProgram: a devmap entry in --map-init names its
// xdp/devmap program by name; the attached xdp_redirect_prog sends a0's
// frames to b0 through it, which drops datagrams to port 9 and moves those
// to port 9001 to port 9002.
func TestAttachXDPMapInitEntryProgram(t *testing.T) {
	tp := newAttachTopology(t, "d", 81)
	a0Index, b0Index := tp.mid.Ifindex(t, tp.a0), tp.mid.Ifindex(t, tp.b0)
	init := writeInit(t, fmt.Sprintf(`{"ports_prog": [{"key": %q, "value": %q, "program": "xdp_dev_rewrite"}]}`,
		le32(a0Index), le32(b0Index)))

	var moved *net.UDPConn
	tp.n2.Do(t, func() (err error) {
		moved, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IP{10, 81, 0, 2}, Port: 9002})
		return err
	})
	defer moved.Close()
	wait := tp.attach(t, hookObject, "--program", "xdp_redirect_prog", "--map-init", init, "--workers", "1")
	for port, n := range map[int]int{9: 3, 9001: 4} {
		tp.n1.Do(t, func() error {
			c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IP{10, 81, 0, 2}, Port: port})
			if err != nil {
				return err
			}
			defer c.Close()
			for i := 0; i < n; i++ {
				if _, err := c.Write([]byte("hello")); err != nil {
					return err
				}
			}
			return nil
		})
	}
	got := 0
	buf := make([]byte, 64)
	moved.SetReadDeadline(time.Now().Add(settle))
	for got < 4 {
		if _, err := moved.Read(buf); err != nil {
			break
		}
		got++
	}
	// The 4 arrived; the entry program's 3 drops may have come after
	// (the ports are sent in map order).
	stdout, stderr, err := wait(time.Second)
	if err != nil {
		t.Fatalf("attach: %v; stderr %s", err, stderr)
	}
	if got != 4 {
		t.Errorf("%d of 4 datagrams the devmap program moved to port 9002 arrived", got)
	}
	var res struct {
		Verdicts       map[string]uint64
		DevMapVerdicts map[string]uint64 `json:"devmap_verdicts"`
		Maps           map[string][]mapEntry
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, stdout)
	}
	if res.Verdicts["XDP_REDIRECT"] != 7 || res.DevMapVerdicts["XDP_DROP"] != 3 || res.DevMapVerdicts["XDP_PASS"] != 4 {
		t.Errorf("verdicts %v, devmap verdicts %v: want 7 redirected, the entry program dropping 3 and passing 4", res.Verdicts, res.DevMapVerdicts)
	}
	// The entry's value holds the program's ID where Linux holds an fd.
	if pp := res.Maps["ports_prog"]; len(pp) != 1 || !strings.HasPrefix(pp[0].Value, le32(b0Index)) || strings.HasSuffix(pp[0].Value, "00000000") {
		t.Errorf("ports_prog %+v: want b0's ifindex and a program ID", pp)
	}
	// The entry program counted the frames by egress_ifindex.
	found := false
	for _, e := range res.Maps["seen"] {
		if e.Key == le32(b0Index) {
			found = e.Value == "0700000000000000"
		}
	}
	if !found {
		t.Errorf("seen %+v: want 7 frames for egress ifindex %d", res.Maps["seen"], b0Index)
	}
}

// TestMapInitEntryProgramErrors: "program" names a program of the object of
// the kind the map needs, in a map with room for it. The maps are filled
// before attaching, so a missing interface is the error once they are right.
func TestMapInitEntryProgramErrors(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{`{"ports_prog": [{"key": "01000000", "value": "02000000", "program": "nope"}]}`, `no program "nope"`},
		{`{"ports_prog": [{"key": "01000000", "value": "02000000", "program": "xdp_pass"}]}`, "no xdp/devmap program"},
		{`{"cpus_prog": [{"key": "00000000", "value": "00010000", "program": "xdp_dev_rewrite"}]}`, "no xdp/cpumap program"},
		{`{"ports": [{"key": "01000000", "value": "02000000", "program": "xdp_dev_rewrite"}]}`, "no room for a program"},
		{`{"seen": [{"key": "01000000", "value": "0200000000000000", "program": "xdp_dev_rewrite"}]}`, "not hash"},
		{`{"ports_prog": [{"key": "01000000", "value": "0200000005000000", "program": "xdp_dev_rewrite"}]}`, "give one of them"},
		{`{"ports_prog": [{"key": "01000000", "value": "020000", "program": "xdp_dev_rewrite"}]}`, "want 4"},
	} {
		out, code := cli(t, "attach", "xdp", hookObject, "--program", "xdp_redirect_prog", "--dev", "bpfhost-none0",
			"--map-init", writeInit(t, c.doc))
		if code == 0 || !strings.Contains(out, c.want) {
			t.Errorf("%s: exit %d, %q; want an error with %q", c.doc, code, out, c.want)
		}
	}
	// A cpumap entry with its program is accepted.
	out, code := cli(t, "attach", "xdp", hookObject, "--program", "xdp_cpumap_entry", "--dev", "bpfhost-none0",
		"--map-init", writeInit(t, `{"cpus_prog": [{"key": "01000000", "value": "00010000", "program": "xdp_cpu_filter"}]}`))
	if code == 0 || !strings.Contains(out, `interface "bpfhost-none0"`) {
		t.Errorf("cpumap entry with a program: exit %d, %s; want only the missing interface", code, out)
	}
	// run loads only the program it runs: the error says so.
	out, code = cli(t, "run", hookObject, "--program", "xdp_redirect_prog", "--data", writeInit(t, strings.Repeat("\x00", 64)),
		"--map-init", writeInit(t, `{"ports_prog": [{"key": "01000000", "value": "02000000", "program": "xdp_dev_rewrite"}]}`))
	if code == 0 || !strings.Contains(out, "attach xdp loads every program") {
		t.Errorf("run with an entry program: exit %d, %s", code, out)
	}
}

// TestAttachXDPSegments: with TSO on the far end of a0, the sender's
// aggregates cross the bridge cut into segments; --json counts them and
// nothing is dropped as oversize.
func TestAttachXDPSegments(t *testing.T) {
	tp := newAttachTopology(t, "g", 82)
	tp.n1.Do(t, func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		for _, cmd := range []uint32{ethtool.STSO, ethtool.SGSO} {
			if err := ethtool.Set(fd, tp.e1, cmd, 1); err != nil {
				return err
			}
		}
		return nil
	})
	received := tp.n2.TCPSink(t, "10.82.0.2:7001", settle)
	wait := tp.attach(t, hookObject, "--program", "xdp_pass", "--workers", "1")
	tp.n1.Do(t, func() error {
		c, err := net.DialTimeout("tcp4", "10.82.0.2:7001", settle)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetWriteDeadline(time.Now().Add(settle))
		_, err = c.Write(make([]byte, 256<<10))
		return err
	})
	n := <-received // the sender closed: every segment went through
	stdout, stderr, err := wait(0)
	if err != nil {
		t.Fatalf("attach: %v; stderr %s", err, stderr)
	}
	var res struct {
		Segments uint64
		Dropped  map[string]uint64
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, stdout)
	}
	if n != 256<<10 || res.Segments == 0 || res.Dropped["oversize"] != 0 {
		t.Errorf("%d of %d bytes arrived; segments %d, oversize %d: want all, some segments, none oversize", n, 256<<10, res.Segments, res.Dropped["oversize"])
	}
}
