package helpers

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/bpfhost/bpfhost/vm"
)

// ErrLockTimeout is wrapped when bpf_spin_lock gives up waiting. A verified
// holder releases its lock within its run's instruction budget, far sooner;
// a lock word that stays taken was written directly by an unverified
// program or left behind by a run that ended early, and must not hang the
// host: the run fails instead.
var ErrLockTimeout = errors.New("spin lock not released")

// spinLockWait bounds how long bpf_spin_lock waits in a trusted run.
var spinLockWait = time.Second

// CheckedLockWait bounds how long bpf_spin_lock waits in a checked run,
// whose program may be unverified and may have poisoned the word itself.
const CheckedLockWait = 100 * time.Millisecond

// takeLock is bpf_spin_lock's wait: the protocol of maps.SpinLock
// (compare-and-swap 0 to 1, yielding after a few failures), for at most
// spinLockWait, or CheckedLockWait in checked runs.
func takeLock(rc *vm.RunContext, p unsafe.Pointer) error {
	wait := spinLockWait
	if rc.Mode == vm.Checked {
		wait = CheckedLockWait
	}
	if !trySpinLock((*uint32)(p), wait) {
		return fmt.Errorf("%w within %v", ErrLockTimeout, wait)
	}
	return nil
}

// trySpinLock takes the lock word at l as maps.SpinLock does, giving up
// after wait.
func trySpinLock(l *uint32, wait time.Duration) bool {
	var deadline time.Time
	for i := 0; !atomic.CompareAndSwapUint32(l, 0, 1); i++ {
		if i < 16 {
			continue
		}
		// The holder is a goroutine that may need this thread.
		runtime.Gosched()
		if i%1024 == 16 {
			now := time.Now()
			if deadline.IsZero() {
				deadline = now.Add(wait)
			} else if now.After(deadline) {
				return false
			}
		}
	}
	return true
}
