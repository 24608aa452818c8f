//go:build unix

package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestChildVerifierConcurrent: loads at once run at most
// ChildLimits.Concurrent verifier children; the others wait for one to
// end. Each child (a shell standing in for the verifier: it gives no
// verdict, which rejects its load and does not matter here) appends "+"
// to a file when it starts and "-" before it ends; a slot is freed only
// once its child has exited, so the running count read from the file
// never exceeds the bound, however the children are scheduled. Without
// the bound, six children sleeping 200 ms each overlap on any machine.
func TestChildVerifierConcurrent(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log")
	script := "echo + >> " + log + "; sleep 0.2; echo - >> " + log
	const bound, loads = 2, 6
	verify := ChildVerifier([]string{"sh", "-c", script}, ChildLimits{CPU: time.Minute, Memory: 1 << 30, Wall: time.Minute, Concurrent: bound})
	var wg sync.WaitGroup
	for range loads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := verify(context.Background(), VerifyRequest{}); err == nil {
				t.Error("a child without a verdict accepted a load")
			}
		}()
	}
	wg.Wait()
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	marks := strings.Fields(string(b))
	run, most, started := 0, 0, 0
	for _, m := range marks {
		if m == "+" {
			run++
			started++
		} else {
			run--
		}
		most = max(most, run)
	}
	if started != loads || most > bound {
		t.Fatalf("children %q: %d started (want %d), %d at once (want at most %d)", marks, started, loads, most, bound)
	}
}

// TestChildVerifierWaitCanceled: a load that waits for a verifier ends
// when its client goes, without a child.
func TestChildVerifierWaitCanceled(t *testing.T) {
	started := filepath.Join(t.TempDir(), "started")
	verify := ChildVerifier([]string{"sh", "-c", "echo > " + started + "; exec sleep 30"}, ChildLimits{CPU: time.Minute, Memory: 1 << 30, Wall: time.Minute, Concurrent: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		verify(ctx, VerifyRequest{}) // holds the one slot until canceled
	}()
	// Wait for the first child to start, then queue a second load and
	// cancel it: it returns, while the first still holds the slot.
	for end := time.Now().Add(settle); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(started); err == nil {
			break
		}
		if time.Now().After(end) {
			t.Fatal("the first child did not start")
		}
	}
	wctx, wcancel := context.WithCancel(context.Background())
	wcancel()
	if _, err := verify(wctx, VerifyRequest{}); err == nil || !strings.Contains(err.Error(), "waited") {
		t.Fatalf("a canceled waiting load: %v", err)
	}
	cancel()
	<-done
}
