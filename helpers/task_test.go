package helpers

import (
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

type fakeTask struct{}

func (fakeTask) PidTgid() uint64 { return 7<<32 | 9 }
func (fakeTask) UidGid() uint64  { return 5<<32 | 1000 }
func (fakeTask) Comm() string    { return "a-very-long-command-name" }

type fakeSocket struct{ bound []byte }

func (*fakeSocket) Cookie() uint64      { return 0x1234 }
func (*fakeSocket) NetnsCookie() uint64 { return 0x99 }
func (s *fakeSocket) Bind(addr []byte) int64 {
	s.bound = append([]byte(nil), addr...)
	return -98 // EADDRINUSE
}

// A run's Task and Socket answer the task and socket helpers in place of
// the host process.
func TestRunTaskAndSocket(t *testing.T) {
	e := newEnv(t, vm.Checked)
	// Without a socket, the cookies are 0 and bpf_bind is -EINVAL.
	if r := e.mustCall(linux.FnGetSocketCookie, 0); r != 0 {
		t.Errorf("cookie without socket = %d", r)
	}
	sock := &fakeSocket{}
	e.rc.Value = &Run{Task: fakeTask{}, Socket: sock}
	if r := uint64(e.mustCall(linux.FnGetCurrentPidTgid)); r != 7<<32|9 {
		t.Errorf("pid_tgid = %#x", r)
	}
	if r := uint64(e.mustCall(linux.FnGetCurrentUidGid)); r != 5<<32|1000 {
		t.Errorf("uid_gid = %#x", r)
	}
	b, p := e.mem("comm", 16, true)
	e.mustCall(linux.FnGetCurrentComm, p, 16)
	if got := strings.TrimRight(string(b), "\x00"); got != "a-very-long-com" {
		t.Errorf("comm = %q", got)
	}
	if r := e.mustCall(linux.FnGetSocketCookie, 0); r != 0x1234 {
		t.Errorf("socket cookie = %#x", r)
	}
	if r := e.mustCall(linux.FnGetNetnsCookie, 0); r != 0x99 {
		t.Errorf("netns cookie = %#x", r)
	}
	a, ap := e.mem("addr", 16, false)
	a[0] = 2
	if r := e.mustCall(linux.FnBind, 0, ap, 16); r != -98 || len(sock.bound) != 16 || sock.bound[0] != 2 {
		t.Errorf("bind = %d, bound %x", r, sock.bound)
	}
	// The address must be readable memory of the given size.
	if _, err := e.call(linux.FnBind, 0, ap, 17); err == nil {
		t.Error("bind past the address: no error")
	}
}
