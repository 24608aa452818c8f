package main

import (
	"strings"
	"testing"
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
	if out := d.must("-j", "map", "dequeue", "pinned", "/qm/fifo"); strings.TrimSpace(out) != `{"value":["0x01","0x00","0x00","0x00"]}` {
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
