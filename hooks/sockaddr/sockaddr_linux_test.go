package sockaddr

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost"
	"golang.org/x/sys/unix"
)

func loadTestObject(t testing.TB) *bpfhost.Collection {
	t.Helper()
	return loadObject(t, "testdata/sockaddr.o")
}

// loadObject loads the object at path; it is closed when the test ends.
func loadObject(t testing.TB, path string) *bpfhost.Collection {
	t.Helper()
	spec, err := bpfhost.LoadCollectionSpec(path)
	if err != nil {
		t.Fatal(err)
	}
	coll, err := bpfhost.NewCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { coll.Close() })
	return coll
}

func TestAttachChecks(t *testing.T) {
	coll := loadTestObject(t)
	for _, tc := range []struct {
		a    Attach
		want string
	}{
		{Attach{Type: "cgroup/bind4", Program: coll.Programs["deny_port"]}, `program "deny_port" is cgroup_sock_addr/connect4, want a program of attach type cgroup_inet4_bind`},
		{Attach{Type: "cgroup/connect5", Program: coll.Programs["deny_port"]}, `attach type "cgroup/connect5": want one of`},
		{Attach{Type: "cgroup/connect4"}, "no program"},
	} {
		_, err := Start(exec.Command("true"), []Attach{tc.a}, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.a, err, tc.want)
		}
	}
	cmd := exec.Command("true")
	cmd.ExtraFiles = []*os.File{os.Stdin}
	if _, err := Start(cmd, nil, nil); err == nil {
		t.Error("ExtraFiles accepted")
	}
}

// The Go API supervises a command started from a Go program: a Python
// client's connect to the denied port fails with EPERM; the exit status and
// the counts come back.
func TestStartDeny(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	coll := loadTestObject(t)
	cmd := exec.Command("python3", "-c", `
import socket, sys
s = socket.socket()
try:
    s.connect(("127.0.0.1", 9))
except OSError as e:
    print(e.errno)
    sys.exit(3)
`)
	var out strings.Builder
	cmd.Stdout = &out
	link, err := Start(cmd, []Attach{{Type: "cgroup/connect4", Program: coll.Programs["deny_port"]}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = link.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || out.String() != "1\n" {
		t.Fatalf("wait %v, output %q; want exit 3 after errno 1 (EPERM)", err, out.String())
	}
	if s := link.Stats(); len(s) != 1 || s[0] != (ProgramStats{Name: "deny_port", AttachType: "cgroup/connect4", Runs: 1, Denied: 1}) {
		t.Errorf("stats %+v", s)
	}
}

// A command that does not exist fails in the shim with status 127.
func TestStartMissingCommand(t *testing.T) {
	coll := loadTestObject(t)
	cmd := &exec.Cmd{Path: "/nonexistent/command", Args: []string{"x"}}
	link, err := Start(cmd, []Attach{{Type: "cgroup/connect4", Program: coll.Programs["deny_port"]}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ee *exec.ExitError
	if err := link.Wait(); !errors.As(err, &ee) || ee.ExitCode() != 127 {
		t.Errorf("wait: %v, want exit 127", err)
	}
}

// The listener takes SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP on Linux 6.6 and
// later (passing the flags by pointer, as once done, is EINVAL and left the
// target and the supervisor waking each other on different CPUs).
func TestSyncWakeUp(t *testing.T) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	var major, minor int
	fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &major, &minor)
	if major < 6 || major == 6 && minor < 6 {
		t.Skipf("Linux %d.%d has no SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP", major, minor)
	}
	link := superviseTrue(t)
	if !link.syncWake {
		t.Error("the listener refused SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP")
	}
}

// A connect that blocks in the supervisor (its SYN is dropped: the
// listener's accept queue is full) does not hold up another thread's
// connect: the watchdog starts another worker to receive meanwhile.
//
// The blocked connect cannot complete before full.accept(), which comes
// after the wait for the other thread: a supervisor that stalls holds the
// other connect until that wait ends, so the wait can be long (10 s) and
// still tell; a working one ends it within milliseconds.
func TestBlockedConnectDoesNotStall(t *testing.T) {
	link, out, err := superviseConnects(t, `
import socket, threading, time
full = socket.socket(); full.bind(("127.0.0.1", 0)); full.listen(0)
first = socket.create_connection(full.getsockname())
free = socket.socket(); free.bind(("127.0.0.1", 0)); free.listen(8)
res = {}
def blocked():
    s = socket.socket()
    s.connect(full.getsockname())
    res["blocked"] = "connected"
th = threading.Thread(target=blocked); th.start()
time.sleep(0.1)
other = threading.Thread(target=lambda: socket.create_connection(free.getsockname()))
other.start(); other.join(10)
fast = not other.is_alive()
full.accept()  # the blocked connect's next SYN (after 1 s) gets in
th.join(); other.join()
print("fast" if fast else "slow", res.get("blocked"))
`)
	if err != nil || out != "fast connected\n" {
		t.Fatalf("wait %v, output %q; want %q", err, out, "fast connected\n")
	}
	if s := link.Stats(); len(s) != 1 || s[0].Runs != 3 || s[0].Denied != 0 {
		t.Errorf("stats %+v, want 3 runs", s)
	}
}

// A thread's first supervised call checks the notification is live
// (SECCOMP_IOCTL_NOTIF_ID_VALID) after taking its socket, because its
// pidfd was opened after the notification; its later calls, with the pidfd
// cached before they were received, need no check (worker.takeSocket).
func TestIdentityCheckedOncePerThread(t *testing.T) {
	requireThreadPidfds(t)
	link, out, err := superviseConnects(t, `
import socket, threading
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(128)
ok = []
def client():
    for _ in range(20):
        s = socket.socket(); s.connect(srv.getsockname()); s.close(); ok.append(1)
ts = [threading.Thread(target=client) for _ in range(3)]
for t in ts: t.start()
for t in ts: t.join()
print(len(ok))
`)
	if err != nil || out != "60\n" {
		t.Fatalf("wait %v, output %q; want 60 connects", err, out)
	}
	// A check for each pidfd opened (one per thread, more if two workers
	// opened one at once), and more only for a notification received by
	// a worker that was already in RECV when a pidfd of the notifying
	// thread was opened: each opening makes each worker's receive stale
	// at most once. (A loaded machine, or the race detector, makes the
	// watchdog start more workers.) Checking every call would be 60.
	n, opened, started := link.idChecks.Load(), link.pidSeq.Load(), link.started.Load()
	t.Logf("%d identity checks, %d pidfds opened, %d workers started", n, opened, started)
	if max := opened * (1 + started); n < 3 || n > max {
		t.Errorf("%d identity checks for 60 connects from 3 threads with %d pidfds opened and %d workers started, want 3 to %d", n, opened, started, max)
	}
}

// requireThreadPidfds skips a test that counts what the cache of thread
// pidfds saves: before Linux 6.9 (no PIDFD_THREAD) pidfds name processes
// and are not cached, so every call is checked and reads /proc.
func requireThreadPidfds(t *testing.T) {
	t.Helper()
	fd, err := unix.PidfdOpen(unix.Gettid(), pidfdThrd)
	if err != nil {
		t.Skipf("no thread pidfds (PIDFD_THREAD, Linux 6.9): %v", err)
	}
	unix.Close(fd)
}

// superviseConnects runs a Python script with deny_port on its connects
// and returns the link after Wait, the script's output and Wait's error.
func superviseConnects(t *testing.T, script string) (*Link, string, error) {
	t.Helper()
	return supervisePython(t, script, loadTestObject(t).Programs["deny_port"])
}

// supervisePython runs a Python script with the connect4 program prog.
func supervisePython(t *testing.T, script string, prog *bpfhost.Program) (*Link, string, error) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	cmd := exec.Command("python3", "-c", script)
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = &out
	link, err := Start(cmd, []Attach{{Type: "cgroup/connect4", Program: prog}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = link.Wait()
	return link, out.String(), err
}

// bpf_get_current_pid_tgid answers the process's tgid for every thread,
// and reads /proc/TID/status once per thread, not once per call (the tgid
// is kept with the thread's cached pidfd).
func TestTgidReadOncePerThread(t *testing.T) {
	requireThreadPidfds(t)
	coll := loadObject(t, "testdata/portlist.o")
	link, out, err := supervisePython(t, `
import os, socket, threading
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(128)
def client():
    for _ in range(10):
        s = socket.socket(); s.connect(srv.getsockname()); s.close()
ts = [threading.Thread(target=client) for _ in range(3)]
for t in ts: t.start()
for t in ts: t.join()
print(os.getpid())
`, coll.Programs["tgid_of"])
	if err != nil {
		t.Fatalf("wait %v, output %q", err, out)
	}
	var pid uint64
	fmt.Sscan(out, &pid)
	var tgid, others uint64
	if err := coll.Maps["seen"].Lookup(uint32(0), &tgid); err != nil {
		t.Fatal(err)
	}
	if err := coll.Maps["seen"].Lookup(uint32(1), &others); err != nil {
		t.Fatal(err)
	}
	if tgid != pid || others != 30 {
		t.Errorf("tgid %d (want the client's pid %d), %d calls from other threads (want 30)", tgid, pid, others)
	}
	// One read per pidfd opened: a cached pidfd keeps its thread's tgid
	// (two workers opening one at once each read it).
	if n, opened := link.taskReads.Load(), link.pidSeq.Load(); n < 3 || n > opened {
		t.Errorf("%d reads of the tgid for 30 connects from 3 threads with %d pidfds opened, want 3 to %d", n, opened, opened)
	}
}

// bpf_get_current_uid_gid answers the credentials the thread has at the
// call: a client that drops its uid and gid between two connects is seen
// with each (read from the pidfd on Linux 6.13 and later, else from
// /proc/TID/status).
func TestUidGidFollowsCredentials(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("changing the client's uid needs root")
	}
	coll := loadObject(t, "testdata/portlist.o")
	_, out, err := supervisePython(t, `
import os, socket
a = socket.socket(); a.bind(("127.0.0.1", 0)); a.listen(8)
b = socket.socket(); b.bind(("127.0.0.1", 0)); b.listen(8)
socket.create_connection(a.getsockname()).close()
os.setresgid(4321, 4321, 4321)
os.setresuid(1234, 1234, 1234)
socket.create_connection(b.getsockname()).close()
print(a.getsockname()[1], b.getsockname()[1])
`, coll.Programs["uid_of"])
	if err != nil {
		t.Fatalf("wait %v, output %q", err, out)
	}
	var pa, pb uint32
	if _, err := fmt.Sscan(out, &pa, &pb); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	for _, c := range []struct {
		port uint32
		want uint64
	}{{pa, 0}, {pb, 4321<<32 | 1234}} {
		var got uint64
		if err := coll.Maps["uids"].Lookup(c.port, &got); err != nil {
			t.Fatalf("port %d: %v", c.port, err)
		}
		if got != c.want {
			t.Errorf("connect to port %d: uid_gid %#x, want %#x", c.port, got, c.want)
		}
	}
}

// Once Wait has returned, no program runs (the caller may close them; a
// worker may still be answering a task the command left behind): the call
// is refused.
func TestNoRunAfterWait(t *testing.T) {
	link := superviseTrue(t)
	w := newWorker(link)
	w.sock = sock{fd: -1, domain: unix.AF_INET, typ: unix.SOCK_STREAM, protocol: unix.IPPROTO_TCP}
	addr := []byte{2, 0, 0, 80, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}
	if _, e := w.runHook(hookConnect4, addr); e != unix.EPERM {
		t.Errorf("connect after Wait: %v, want EPERM", e)
	}
	if s := link.Stats(); s[0].Runs != 0 {
		t.Errorf("program ran after Wait: %+v", s)
	}
}

// superviseTrue runs true with deny_port attached and returns the link
// after Wait.
func superviseTrue(t *testing.T) *Link {
	t.Helper()
	coll := loadTestObject(t)
	link, err := Start(exec.Command("true"), []Attach{{Type: "cgroup/connect4", Program: coll.Programs["deny_port"]}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := link.Wait(); err != nil {
		t.Fatal(err)
	}
	return link
}
