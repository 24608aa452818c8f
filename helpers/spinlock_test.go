package helpers

import (
	"encoding/binary"
	"errors"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// TestSpinLockStuck checks that a checked run does not wait forever for a
// lock nobody will release (a word the program wrote itself, or a lock a
// run kept at exit): bpf_spin_lock stops it with ErrLockTimeout after
// checkedLockWait, and takes a lock that its holder releases in time.
func TestSpinLockStuck(t *testing.T) {
	e := newEnv(t, vm.Checked)
	buf, p := e.mem("lock", 8, true)
	binary.NativeEndian.PutUint32(buf, 1) // poisoned
	start := time.Now()
	_, err := e.call(linux.FnSpinLock, p)
	if !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("poisoned lock: %v, want ErrLockTimeout", err)
	}
	// Not before the wait; and not much later, though how much later
	// depends on the machine's load: a wait that ignored its deadline
	// would never end, so a generous bound tells.
	if d := time.Since(start); d < checkedLockWait || d > checkedLockWait+30*time.Second {
		t.Errorf("gave up after %v, want about %v", d, checkedLockWait)
	}

	// The holder's release must not depend on this machine's scheduling
	// delays (a loaded CI machine can hold a goroutine back for longer than
	// the checked wait): give it a wait no scheduler misses.
	defer func(w time.Duration) { checkedLockWait = w }(checkedLockWait)
	checkedLockWait = time.Minute

	word := (*uint32)(unsafe.Pointer(&buf[0]))
	go func() {
		time.Sleep(10 * time.Millisecond)
		atomic.StoreUint32(word, 0) // the holder releases it
	}()
	if _, err := e.call(linux.FnSpinLock, p); err != nil {
		t.Errorf("lock released in time: %v", err)
	}
	if atomic.LoadUint32(word) != 1 {
		t.Error("lock word not 1 after bpf_spin_lock")
	}
}
