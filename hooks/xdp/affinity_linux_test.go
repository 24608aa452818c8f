package xdp_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost/hooks/xdp"
	"github.com/bpfhost/bpfhost/internal/netnstest"
	"github.com/bpfhost/bpfhost/internal/xdptest"
)

// threadsOn counts the threads of this process allowed to run on cpus
// only (Cpus_allowed_list in /proc/self/task/TID/status).
func threadsOn(t *testing.T, cpus string) int {
	t.Helper()
	tasks, err := filepath.Glob("/proc/self/task/*/status")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range tasks {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the thread ended
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok && strings.TrimSpace(v) == cpus {
				n++
			}
		}
	}
	return n
}

// waitThreadsOn waits until want threads run on cpus only. The workers pin
// themselves as they start and their threads end after Close returns, so
// the count settles within scheduling delays: seconds on a loaded machine.
func waitThreadsOn(t *testing.T, cpus string, want int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		n := threadsOn(t, cpus)
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d threads run on CPU %s only, want %d", n, cpus, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWorkerCPUs checks that Options.WorkerCPUs pins worker w to entry w
// mod len (a negative entry: not pinned), that the pinned threads end with
// the link, and that a CPU the thread cannot run on leaves a trace line.
func TestWorkerCPUs(t *testing.T) {
	// The last CPU this process may run on (a cpuset or taskset may leave
	// out others); with one, every thread runs on it alone already.
	var allowed unix.CPUSet
	if err := unix.SchedGetaffinity(0, &allowed); err != nil {
		t.Fatal(err)
	}
	if allowed.Count() < 2 {
		t.Skip("needs 2 CPUs: with one, every thread runs on it alone")
	}
	last := -1
	for c := 0; c < len(allowed)*64; c++ {
		if allowed.IsSet(c) {
			last = c
		}
	}
	netnstest.Require(t)
	mid, far := netnstest.New(t), netnstest.New(t)
	a0, e1 := netnstest.Uniq("wa"), netnstest.Uniq("we")
	netnstest.Veth(t, mid, a0, far, e1)
	_, prog := xdptest.Load(t, "testdata/hook.o", "xdp_pass", "")
	cpu := strconv.Itoa(last)
	base := threadsOn(t, cpu)

	// Workers 0 and 2 take entry 0, worker 1 entry 1 (not pinned).
	var l *xdp.Link
	mid.Do(t, func() (err error) {
		l, err = xdp.Attach(prog, xdp.Options{Interface: a0, Workers: 3, WorkerCPUs: []int{last, -1}})
		return err
	})
	waitThreadsOn(t, cpu, base+2)
	l.Close()
	waitThreadsOn(t, cpu, base)

	lines := make(chan string, 8)
	mid.Do(t, func() (err error) {
		l, err = xdp.Attach(prog, xdp.Options{Interface: a0, Workers: 1, WorkerCPUs: []int{1023},
			Trace: func(line string) {
				select {
				case lines <- line:
				default:
				}
			}})
		return err
	})
	defer l.Close()
	select {
	case line := <-lines:
		if !strings.Contains(line, "xdp worker 0: pin to CPU 1023") {
			t.Errorf("trace line %q, want one about pinning worker 0 to CPU 1023", line)
		}
	case <-time.After(20 * time.Second):
		t.Error("no trace line for a CPU the worker cannot run on")
	}
}
