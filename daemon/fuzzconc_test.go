package daemon

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
)

// TestControlAPIConcurrent sends FuzzControlAPI's seed requests (every
// call, and the framing cases) from several connections at once, each
// client in its own shuffled order, so that loads, runs, map writes,
// freezes, pins, unpins and event pipes of the same objects overlap (run
// it with -race). Every answer keeps the API's contract whatever the
// interleaving (a call may fail, ENOENT after an unpin, say), and the
// daemon neither panics nor stops serving. Which interleavings happen
// depends on scheduling; what is checked does not.
func TestControlAPIConcurrent(t *testing.T) {
	obj, err := os.ReadFile("testdata/counter.o")
	if err != nil {
		t.Fatal(err)
	}
	reqs := append(validRequests(obj), framingSeeds()...)
	fx := newFuzzFixture(t, t.TempDir())
	defer func() { fx.close() }()
	const clients, rounds = 6, 2
	var wg sync.WaitGroup
	errs := make(chan error, clients*rounds*len(reqs))
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(c), 1))
			for range rounds {
				for _, i := range r.Perm(len(reqs)) {
					out, err := fx.send(reqs[i])
					if err == nil {
						err = checkResponses(requestMethods(reqs[i]), out)
					}
					if err != nil {
						errs <- fmt.Errorf("input %q: %v", trim(reqs[i]), err)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	fx.check(t, nil, nil)
}
