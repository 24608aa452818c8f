package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/remote"
)

// TestDaemonQueueCLI pushes onto a queue and a stack with the CLI, kills
// the daemon with SIGKILL, starts it again, and peeks and pops in order,
// in bpftool's text and JSON.
func TestDaemonQueueCLI(t *testing.T) {
	d := newTestDaemonProc(t)
	d.start()
	d.must("prog", "load", "../../daemon/testdata/queue.o", "/q", "pinmaps", "/qm")
	d.must("map", "push", "pinned", "/qm/fifo", "value", "1", "0", "0", "0")
	d.must("map", "enqueue", "pinned", "/qm/fifo", "value", "hex", "02", "00", "00", "00")
	d.must("map", "push", "pinned", "/qm/lifo", "value", "7", "0", "0", "0")
	d.must("map", "push", "pinned", "/qm/lifo", "value", "8", "0", "0", "0")
	d.kill()
	d.start()
	if out := d.must("map", "peek", "pinned", "/qm/fifo"); out != "value: 01 00 00 00\n" {
		t.Errorf("peek: %q", out)
	}
	if out := d.must("-j", "map", "dequeue", "pinned", "/qm/fifo"); strings.TrimSpace(out) != `{"key":[],"value":["0x01","0x00","0x00","0x00"]}` {
		t.Errorf("dequeue -j: %q", out)
	}
	if out := d.must("map", "pop", "pinned", "/qm/fifo"); out != "value: 02 00 00 00\n" {
		t.Errorf("pop: %q", out)
	}
	if out := d.must("map", "pop", "pinned", "/qm/lifo"); out != "value: 08 00 00 00\n" {
		t.Errorf("stack pop: %q", out)
	}
	if _, errOut, code := d.cli(nil, "map", "pop", "pinned", "/qm/fifo"); code == 0 || errOut == "" {
		t.Errorf("pop of an empty queue: exit %d, %q", code, errOut)
	}
	if _, errOut, code := d.cli(nil, "map", "push", "pinned", "/qm/fifo", "value", "1"); code != exitUsage || !strings.Contains(errOut, "want 4") {
		t.Errorf("short value: exit %d, %q", code, errOut)
	}
}

// TestDaemonEventPipePerf reads a perf event array's samples with the CLI
// while "prog run" writes them: bpftool's JSON with the CPU.
func TestDaemonEventPipePerf(t *testing.T) {
	d := newTestDaemonProc(t)
	d.start()
	d.must("prog", "load", "../../daemon/testdata/perf.o", "/pf", "pinmaps", "/pfm")
	pipe := exec.Command(d.bin, "-j", "map", "event_pipe", "pinned", "/pfm/samples")
	pipe.Env = append(os.Environ(), asMainEnv+"=1", remote.SocketEnv+"="+d.sock)
	stdout, err := pipe.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := pipe.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { pipe.Process.Kill(); pipe.Wait() }()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	pkt := filepath.Join(t.TempDir(), "pkt")
	os.WriteFile(pkt, append([]byte{0xab, 0xcd, 0xef, 0x01}, make([]byte, 60)...), 0o644)
	// Run until the pipe's reader is attached (samples before it are
	// dropped), for up to settle.
	for deadline := time.Now().Add(settle); time.Now().Before(deadline); {
		d.must("prog", "run", "pinned", "/pf", "data_in", pkt)
		select {
		case line := <-lines:
			var ev struct {
				CPU   *int     `json:"cpu"`
				Data  []string `json:"data"`
				Index *int     `json:"index"`
			}
			if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.CPU == nil || *ev.CPU < 0 || *ev.CPU >= runtime.GOMAXPROCS(0) ||
				strings.Join(ev.Data, " ") != "0xab 0xcd 0xef 0x01" || ev.Index == nil || *ev.Index != 0 {
				t.Fatalf("event_pipe -j: %q (%v)", line, err)
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatal("no sample came through the CLI's event pipe")
}
