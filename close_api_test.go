package bpfhost_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/bpfhost/bpfhost"
)

// TestCloseWhileUsing closes a collection while goroutines run its program
// and use its map and variables from user space (Get, Set, Lookup, Iterate,
// BatchLookup): every operation either works or fails with ErrClosed, with
// no race (run with -race) and no fault. Which operations land before the
// Close depends on scheduling; the assertion holds for any order.
func TestCloseWhileUsing(t *testing.T) {
	for round := 0; round < 10; round++ {
		coll := loadObject(t, "examples/config.o", &bpfhost.CollectionOptions{Slots: 2})
		prog := coll.Programs["xdp_config"]
		seen := coll.Variables["seen"]
		bss := coll.Maps[".bss"]
		pkt := ipv4Packet([4]byte{10, 0, 0, 1})
		var wg sync.WaitGroup
		check := func(err error) {
			if err != nil && !errors.Is(err, bpfhost.ErrClosed) {
				t.Error(err)
			}
		}
		for g := 0; g < 6; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 300; i++ {
					switch (i + g) % 6 {
					case 0:
						_, _, err := prog.Test(pkt)
						check(err)
					case 1:
						var n uint64
						check(seen.Get(&n))
					case 2:
						check(seen.Set(uint64(i)))
					case 3:
						var v []byte
						check(bss.Lookup(uint32(0), &v))
					case 4:
						it := bss.Iterate()
						for it.Next(nil, nil) {
						}
						check(it.Err())
					case 5:
						var c bpfhost.MapBatchCursor
						_, err := bss.BatchLookup(&c, make([]uint32, 1), make([][]byte, 1))
						if !errors.Is(err, bpfhost.ErrKeyNotExist) {
							check(err)
						}
					}
				}
			}()
		}
		wg.Add(1)
		go func() { defer wg.Done(); coll.Close() }()
		wg.Wait()
	}
}
