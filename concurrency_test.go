package bpfhost_test

import (
	"sync"
	"testing"

	"github.com/bpfhost/bpfhost"
)

// TestConcurrentUse runs one collection's program from many goroutines while
// user space updates and iterates its maps. Run with -race; the drop
// counters must add up exactly.
func TestConcurrentUse(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("examples/firewall.o")
	if err != nil {
		t.Fatal(err)
	}
	coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Slots: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	key := struct {
		PrefixLen uint32
		Addr      [4]byte
	}{24, [4]byte{203, 0, 113, 0}}
	if err := coll.Maps["blocklist_v4"].Put(key, uint32(1)); err != nil {
		t.Fatal(err)
	}
	// The program creates a rule's counter on its first drop with
	// BPF_NOEXIST; two first drops at once can both miss and one count is
	// lost, in Linux too. Creating it here leaves only atomic increments.
	if err := coll.Maps["drops"].Put(uint32(1), uint64(0)); err != nil {
		t.Fatal(err)
	}
	blocked := ipv4Packet([4]byte{203, 0, 113, 9})
	passed := ipv4Packet([4]byte{10, 1, 2, 3})
	prog := coll.Programs["xdp_firewall"]

	const goroutines, runs = 8, 300
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < runs; i++ {
				pkt := passed
				if i%2 == 0 {
					pkt = blocked
				}
				if _, _, err := prog.Test(pkt); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	// User space meanwhile changes an unrelated rule and walks the maps.
	done := make(chan struct{})
	go func() {
		defer close(done)
		other := key
		other.Addr = [4]byte{192, 0, 2, 0}
		for i := 0; i < 200; i++ {
			if err := coll.Maps["blocklist_v4"].Put(other, uint32(i)); err != nil {
				t.Error(err)
			}
			var k, v []byte
			it := coll.Maps["proto_stats"].Iterate()
			for it.Next(&k, &v) {
			}
			if err := coll.Maps["blocklist_v4"].Delete(other); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	<-done
	var drops uint64
	if err := coll.Maps["drops"].Lookup(uint32(1), &drops); err != nil {
		t.Fatal(err)
	}
	if want := uint64(goroutines * runs / 2); drops != want {
		t.Errorf("drops = %d, want %d", drops, want)
	}
	var stats []struct{ Packets, Bytes uint64 }
	if err := coll.Maps["proto_stats"].Lookup(uint32(17), &stats); err != nil {
		t.Fatal(err)
	}
	var packets uint64
	for _, s := range stats {
		packets += s.Packets
	}
	if want := uint64(goroutines * runs / 2); packets != want || len(stats) != 4 {
		t.Errorf("UDP packets over %d slots = %d, want %d over 4", len(stats), packets, want)
	}
	_ = bpfhost.ErrKeyNotExist
}
