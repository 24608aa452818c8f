package sockaddr

import (
	"testing"

	"golang.org/x/sys/unix"
)

// A cached pidfd dropped from the cache while workers use it is closed by
// the last of them, not before; a dropped entry cannot be taken again.
func TestPidfdEntryRefs(t *testing.T) {
	fd, err := unix.PidfdOpen(unix.Getpid(), 0)
	if err != nil {
		t.Skipf("pidfd_open: %v", err)
	}
	open := func() bool { _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); return err == nil }
	l := &Link{}
	e := &pidfdEntry{fd: fd}
	e.refs.Store(1)
	l.pidfds.Store(7, e)
	l.npidfds.Store(1)
	if !e.acquire() || !e.acquire() {
		t.Fatal("acquire failed")
	}
	l.forgetPidfd(7, e)
	l.forgetPidfd(7, e) // a second drop does nothing
	if _, ok := l.pidfds.Load(7); ok || l.npidfds.Load() != 0 {
		t.Fatal("entry still cached")
	}
	e.release()
	if !open() {
		t.Fatal("closed while a worker holds it")
	}
	e.release()
	if open() {
		t.Fatal("not closed by the last release")
	}
	if e.acquire() {
		t.Error("a dropped entry was taken again")
	}
}
