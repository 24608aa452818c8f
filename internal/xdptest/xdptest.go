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

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

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
