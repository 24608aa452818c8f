package bpfhost_test

import (
	"sort"
	"testing"

	"github.com/bpfhost/bpfhost"
)

// TestXDPRedirect: a redirect resolves to bpf_redirect's interface, a
// devmap entry, every devmap entry (broadcast) or a cpumap entry, refuses
// the other combinations, and allocates nothing per frame.
func TestXDPRedirect(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("hooks/xdp/testdata/hook.o")
	if err != nil {
		t.Fatal(err)
	}
	coll, err := bpfhost.NewCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	ports, cpus := coll.Maps["ports"], coll.Maps["cpus"] // devmap_hash, cpumap
	for k, v := range map[uint32]uint32{7: 70, 8: 80} {
		if err := ports.Put(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := cpus.Put(uint32(1), uint32(2)); err != nil { // qsize 2
		t.Fatal(err)
	}

	plain := bpfhost.XDPRedirect{Ifindex: 5}
	if mt := plain.MapType(); mt != 0 {
		t.Errorf("bpf_redirect: map type %v, want 0", mt)
	}
	if i, p, ok, err := plain.DevMapTarget(0); i != 5 || p != nil || !ok || err != nil {
		t.Errorf("bpf_redirect target: %d %v %v %v, want interface 5", i, p, ok, err)
	}
	if _, _, ok, _ := plain.CPUMapEntry(0); ok {
		t.Error("bpf_redirect has a cpumap entry")
	}

	dev := bpfhost.XDPMapRedirect(ports, 7, 0)
	if mt := dev.MapType(); mt != bpfhost.MapDevMapHash {
		t.Errorf("devmap redirect: map type %v", mt)
	}
	if i, p, ok, err := dev.DevMapTarget(0); i != 70 || p != nil || !ok || err != nil {
		t.Errorf("devmap target: %d %v %v %v, want interface 70", i, p, ok, err)
	}
	missing := bpfhost.XDPMapRedirect(ports, 9, 0)
	if _, _, ok, _ := missing.DevMapTarget(0); ok {
		t.Error("devmap target of a missing key")
	}
	if _, _, ok, _ := dev.CPUMapEntry(0); ok {
		t.Error("a devmap has a cpumap entry")
	}
	entries, ok := dev.AppendDevMapEntries(nil, 0)
	var got []uint32
	for _, e := range entries {
		got = append(got, e.Ifindex)
	}
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	if !ok || len(got) != 2 || got[0] != 70 || got[1] != 80 {
		t.Errorf("broadcast entries %v, %v: want 70 and 80", got, ok)
	}

	cpu := bpfhost.XDPMapRedirect(cpus, 1, 0)
	if q, p, ok, err := cpu.CPUMapEntry(0); q != 2 || p != nil || !ok || err != nil {
		t.Errorf("cpumap entry: %d %v %v %v, want qsize 2", q, p, ok, err)
	}
	if _, _, ok, _ := cpu.DevMapTarget(0); ok {
		t.Error("a cpumap resolves to an interface")
	}
	if _, ok := cpu.AppendDevMapEntries(nil, 0); ok {
		t.Error("a cpumap broadcasts")
	}

	if a := testing.AllocsPerRun(100, func() {
		dev.DevMapTarget(0)
		cpu.CPUMapEntry(0)
	}); a != 0 {
		t.Errorf("%v allocations per devmap and cpumap lookup, want 0", a)
	}
}
