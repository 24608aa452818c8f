package daemon

import (
	"testing"
	"time"
)

// settle bounds the tests' waits for what normally takes milliseconds (an
// answer, a record through an event pipe) on a loaded machine; each wait
// ends as soon as what it waits for happens, so only a failing test waits
// this long.
const settle = 30 * time.Second

// firstEvent calls run until a value comes on got, looking 20 ms after
// each call, for at most settle: an event pipe's reader attaches some time
// after its request, and what a run reports before is dropped (as Linux's
// ring is read only by a reader that is there).
func firstEvent[T any](t *testing.T, run func(), got <-chan T) T {
	t.Helper()
	for deadline := time.Now().Add(settle); ; {
		run()
		select {
		case v := <-got:
			return v
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing came through the event pipe within %v", settle)
		}
	}
}

// waitFor polls cond every 10 ms until it holds, for at most settle.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(settle); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", settle, what)
		}
	}
}
