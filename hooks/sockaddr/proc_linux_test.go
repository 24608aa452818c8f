package sockaddr

import (
	"os"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// The task helpers' /proc reading answers this thread's tgid, uid, gid and
// comm as the kernel's own interfaces do, from the status file and from
// the comm file.
func TestTaskFromProc(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	comm, err := os.ReadFile("/proc/thread-self/comm")
	if err != nil {
		t.Skip(err)
	}
	want := strings.TrimSuffix(string(comm), "\n")
	w := newWorker(&Link{})
	w.task.reset(unix.Gettid())
	if got := w.task.Comm(); got != want {
		t.Errorf("comm file: %q, want %q", got, want)
	}
	w.task.reset(unix.Gettid())
	if got := w.task.PidTgid(); got != uint64(os.Getpid())<<32|uint64(unix.Gettid()) {
		t.Errorf("pid_tgid %#x", got)
	}
	if got := w.task.UidGid(); got != uint64(os.Getgid())<<32|uint64(os.Getuid()) {
		t.Errorf("uid_gid %#x", got)
	}
	if got := w.task.Comm(); got != want {
		t.Errorf("status file: comm %q, want %q", got, want)
	}
	if w.l.statusReads.Load() != 1 {
		t.Errorf("%d reads of the status file, want 1", w.l.statusReads.Load())
	}
	if v := procField([]byte("Name:\tx\nTgid:\t12\nUid:\t5\t5\t5\t5\n"), "Uid"); leadingUint(v) != 5 {
		t.Errorf("Uid field %q", v)
	}
	if v := procField([]byte("Tgid:\t12\n"), "Tg"); v != nil {
		t.Errorf("a key's prefix matched: %q", v)
	}
}
