package helpers

import (
	"errors"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/vm"
)

// ErrLockStuck: a checked run waited longer than CheckedLockWait for a
// bpf_spin_lock, which a verified program never holds for long. An
// unverified program can write the lock word directly or exit with the lock
// held, and the next bpf_spin_lock would otherwise wait forever.
var ErrLockStuck = errors.New("spin lock not released")

// CheckedLockWait is how long a checked run waits for a bpf_spin_lock
// before it stops with ErrLockStuck.
const CheckedLockWait = 100 * time.Millisecond

// takeLock is bpf_spin_lock's wait: maps.SpinLock in trusted runs; in
// checked runs the same protocol (compare-and-swap 0 to 1, yielding after a
// few failures) for at most CheckedLockWait.
func takeLock(rc *vm.RunContext, p unsafe.Pointer) error {
	if rc.Mode != vm.Checked {
		maps.SpinLock(p)
		return nil
	}
	word := (*uint32)(p)
	var deadline time.Time
	for tries := 0; ; tries++ {
		if atomic.CompareAndSwapUint32(word, 0, 1) {
			return nil
		}
		switch {
		case tries < 16:
			continue
		case tries == 16:
			deadline = time.Now().Add(CheckedLockWait)
		case tries%32 == 0 && time.Now().After(deadline):
			return ErrLockStuck
		}
		runtime.Gosched()
	}
}
