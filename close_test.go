package bpfhost_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost"
)

// TestCloseDuringRun closes a collection (and, in a second one, a program)
// while a run of its program is stopped inside a helper: the printk
// callback blocks until the close has started. Close used to unmap the
// program's code under the run, which then faulted on its way back into it
// (SIGSEGV, the whole process gone); now Close waits for the run, which
// completes with its verdict, and the runs after it fail with ErrClosed.
//
// Scheduling: the callback is released 50ms after Close was called. On a
// slow machine Close may not have reached the code by then, and the old
// code would pass by luck; the fixed code passes whatever the order, since
// Close waits for the run in every interleaving.
func TestCloseDuringRun(t *testing.T) {
	for _, whole := range []bool{true, false} {
		inRun := make(chan struct{}, 1)
		release := make(chan struct{})
		spec, err := bpfhost.LoadCollectionSpec("testdata/cli/printk.o")
		if err != nil {
			t.Fatal(err)
		}
		first := true
		coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Printk: func(string) {
			if first { // only the first run blocks
				first = false
				inRun <- struct{}{}
				<-release
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		prog := coll.Programs["xdp_printk"]
		type result struct {
			ret uint32
			err error
		}
		ran := make(chan result, 1)
		go func() {
			ret, _, err := prog.Test(make([]byte, 64))
			ran <- result{ret, err}
		}()
		<-inRun
		closed := make(chan error, 1)
		go func() {
			if whole {
				closed <- coll.Close()
			} else {
				closed <- prog.Close()
			}
		}()
		time.Sleep(50 * time.Millisecond)
		close(release)
		if r := <-ran; r.err != nil || r.ret != 2 {
			t.Errorf("whole collection %v: run during Close: %d, %v; want XDP_PASS", whole, r.ret, r.err)
		}
		if err := <-closed; err != nil {
			t.Errorf("whole collection %v: Close: %v", whole, err)
		}
		if _, _, err := prog.Test(make([]byte, 64)); !errors.Is(err, bpfhost.ErrClosed) {
			t.Errorf("whole collection %v: run after Close: %v, want ErrClosed", whole, err)
		}
		coll.Close()
	}
}

// TestCloseUnderLoad closes a collection while goroutines run its program
// in a loop: every run either completes or fails with ErrClosed, and no
// goroutine is left waiting for a slot. How many runs complete before the
// close depends on scheduling and is not checked.
func TestCloseUnderLoad(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("examples/firewall.o")
	if err != nil {
		t.Fatal(err)
	}
	coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Slots: 2})
	if err != nil {
		t.Fatal(err)
	}
	prog := coll.Programs["xdp_firewall"]
	pkt := ipv4Packet([4]byte{10, 1, 2, 3})
	const goroutines = 6 // more than the slots: some wait in acquire
	started := make(chan struct{}, goroutines)
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		go func() {
			for i := 0; ; i++ {
				_, _, err := prog.Test(pkt)
				if i == 0 {
					started <- struct{}{}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for g := 0; g < goroutines; g++ {
		<-started
	}
	if err := coll.Close(); err != nil {
		t.Fatal(err)
	}
	for g := 0; g < goroutines; g++ {
		if err := <-errs; !errors.Is(err, bpfhost.ErrClosed) {
			t.Errorf("run during Close: %v, want ErrClosed", err)
		}
	}
}

// TestCloseConcurrently closes one collection from several goroutines at
// once, as shutdown paths do: each Close returns nil and, under -race, the
// closed flag is not a data race (it was a plain bool).
func TestCloseConcurrently(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("examples/firewall.o")
	if err != nil {
		t.Fatal(err)
	}
	coll, err := bpfhost.NewCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for i := 0; i < cap(errs); i++ {
		go func() { errs <- coll.Close() }()
	}
	for i := 0; i < cap(errs); i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestCloseTailTarget closes collection B while a run of collection A is
// inside B's program, which A's program array held and A tail-called:
// B's Close waits for that run (its slot is A's, not B's) before it frees
// B's code and maps, as Linux frees a program in a program array only
// after the runs that may use it ended. Later runs of A find the slot
// empty. Before, the run returned into B's unmapped code (SIGSEGV with the
// JIT). Scheduling: as in TestCloseDuringRun, the release comes 50ms after
// Close was called; the fixed code passes in either order.
func TestCloseTailTarget(t *testing.T) {
	for _, engine := range bpfhost.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			inRun := make(chan struct{}, 1)
			release := make(chan struct{})
			var lines atomic.Int32
			printk := func(string) { // whichever collection's host prints
				if lines.Add(1) == 1 {
					inRun <- struct{}{}
					<-release
				}
			}
			aspec, err := bpfhost.LoadCollectionSpec("testdata/cli/select.o")
			if err != nil {
				t.Fatal(err)
			}
			a, err := bpfhost.NewCollection(aspec, &bpfhost.CollectionOptions{Engine: engine, Printk: printk, Programs: []string{"xdp_entry"}})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			bspec, err := bpfhost.LoadCollectionSpec("testdata/cli/printk.o")
			if err != nil {
				t.Fatal(err)
			}
			b, err := bpfhost.NewCollection(bspec, &bpfhost.CollectionOptions{Engine: engine, Printk: printk})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if err := a.Maps["jumps"].Put(uint32(1), b.Programs["xdp_printk"]); err != nil {
				t.Fatal(err)
			}
			ran := make(chan error, 1)
			go func() {
				_, _, err := a.Programs["xdp_entry"].Test(make([]byte, 64))
				ran <- err
			}()
			<-inRun // inside B's program
			closed := make(chan error, 1)
			go func() { closed <- b.Close() }()
			time.Sleep(50 * time.Millisecond)
			close(release)
			if err := <-ran; err != nil {
				t.Errorf("run inside the closing collection's program: %v", err)
			}
			if err := <-closed; err != nil {
				t.Errorf("Close: %v", err)
			}
			if ret, _, err := a.Programs["xdp_entry"].Test(make([]byte, 64)); err != nil || ret != 2 || lines.Load() != 1 {
				t.Errorf("run after the target closed: %d, %v, %d printk lines; want XDP_PASS from an empty slot, 1 line", ret, err, lines.Load())
			}
			if err := a.Maps["jumps"].Put(uint32(2), b.Programs["xdp_printk"]); !errors.Is(err, bpfhost.ErrClosed) {
				t.Errorf("storing a closed program: %v, want ErrClosed", err)
			}
		})
	}
}
