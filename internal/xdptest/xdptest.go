//go:build linux

// Package xdptest holds what the XDP hook's tests and benchmark share: map
// initialisation files (the CLI's --map-init format), the same object loaded
// in bpfhost and in the kernel, and the kernel's generic XDP attached inside
// a test namespace.
package xdptest

import (
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/internal/netnstest"
)

// Entry is one map entry of a map initialisation file.
type Entry struct {
	Map        string
	Key, Value []byte
}

// MapInit reads a --map-init file: {"<map>": [{"key": "<hex>", "value":
// "<hex>"}]}. An empty path is no entries.
func MapInit(t testing.TB, path string) []Entry {
	t.Helper()
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var init map[string][]struct{ Key, Value string }
	if err := json.Unmarshal(b, &init); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []Entry
	for name, entries := range init {
		for _, e := range entries {
			k, err1 := hex.DecodeString(e.Key)
			v, err2 := hex.DecodeString(e.Value)
			if err1 != nil || err2 != nil {
				t.Fatalf("%s: map %s: bad hex %q: %q", path, name, e.Key, e.Value)
			}
			out = append(out, Entry{name, k, v})
		}
	}
	return out
}

// Load loads object in bpfhost with the entries of mapInit and returns the
// collection (closed when the test ends) and the program.
func Load(t testing.TB, object, program, mapInit string) (*bpfhost.Collection, *bpfhost.Program) {
	t.Helper()
	spec, err := bpfhost.LoadCollectionSpec(object)
	if err != nil {
		t.Fatal(err)
	}
	coll, err := bpfhost.NewCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { coll.Close() })
	p, ok := coll.Programs[program]
	if !ok {
		t.Fatalf("%s: no program %s", object, program)
	}
	for _, e := range MapInit(t, mapInit) {
		if err := coll.Maps[e.Map].Update(e.Key, e.Value, bpfhost.UpdateAny); err != nil {
			t.Fatalf("map %s: %v", e.Map, err)
		}
	}
	return coll, p
}

// LoadKernel loads only program of object in the kernel with the entries
// of mapInit; the test skips if the kernel refuses it.
func LoadKernel(t testing.TB, object, program, mapInit string) (*ebpf.Collection, *ebpf.Program) {
	t.Helper()
	spec, err := ebpf.LoadCollectionSpec(object)
	if err != nil {
		t.Fatal(err)
	}
	for name := range spec.Programs {
		if name != program {
			delete(spec.Programs, name)
		}
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		t.Skipf("skipping: the kernel does not load %s: %v", program, err)
	}
	t.Cleanup(func() { coll.Close() })
	for _, e := range MapInit(t, mapInit) {
		if err := coll.Maps[e.Map].Put(e.Key, e.Value); err != nil {
			t.Fatalf("kernel map %s: %v", e.Map, err)
		}
	}
	return coll, coll.Programs[program]
}

// AttachGeneric attaches prog to dev in ns with the kernel's generic XDP.
func AttachGeneric(t testing.TB, ns *netnstest.NS, prog *ebpf.Program, dev string) link.Link {
	t.Helper()
	var l link.Link
	ns.Do(t, func() error {
		ni, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		l, err = link.AttachXDP(link.XDPOptions{Program: prog, Interface: ni.Index, Flags: link.XDPGenericMode})
		return err
	})
	return l
}

// EnableRunStats turns on the kernel's BPF run statistics (Linux 5.8 and
// later; system-wide, while any holder keeps them on) until the test ends,
// so that WaitRuns can read a program's run count.
func EnableRunStats(t testing.TB) {
	t.Helper()
	c, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		t.Logf("no BPF run statistics (%v): the kernel's counts are read without waiting for its runs", err)
		return
	}
	t.Cleanup(func() { c.Close() })
}

// WaitRuns waits until the kernel has run prog at least n times or 30 s
// passed. Frames a test injects reach generic XDP in softirq context,
// which a busy machine defers to ksoftirqd, so counting their outcomes
// must wait for the runs first. Without run statistics (EnableRunStats)
// it returns at once.
func WaitRuns(prog *ebpf.Program, n int) {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		s, err := prog.Stats()
		if err != nil || s.RunCount >= uint64(n) {
			return
		}
	}
}
