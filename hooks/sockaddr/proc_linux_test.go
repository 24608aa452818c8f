package sockaddr

import (
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

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
	if w.l.taskReads.Load() != 1 {
		t.Errorf("%d reads of the status file, want 1", w.l.taskReads.Load())
	}
	if v := procField([]byte("Name:\tx\nTgid:\t12\nUid:\t5\t5\t5\t5\n"), "Uid"); leadingUint(v) != 5 {
		t.Errorf("Uid field %q", v)
	}
	if v := procField([]byte("Tgid:\t12\n"), "Tg"); v != nil {
		t.Errorf("a key's prefix matched: %q", v)
	}
}

// With the thread's pidfd, tgid, uid and gid come from PIDFD_GET_INFO
// (where the kernel has it) and agree with the status file; comm is then
// read from the comm file.
func TestTaskFromPidfd(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pfd, err := unix.PidfdOpen(unix.Gettid(), pidfdThrd)
	if err != nil {
		t.Skipf("no thread pidfd: %v", err)
	}
	defer unix.Close(pfd)
	comm, err := os.ReadFile("/proc/thread-self/comm")
	if err != nil {
		t.Skip(err)
	}
	w := newWorker(&Link{})
	w.task.reset(unix.Gettid())
	w.task.pfd = pfd
	pidTgid, uidGid, gotComm := w.task.PidTgid(), w.task.UidGid(), w.task.Comm()
	if !w.task.info {
		if !w.l.noPidfdInfo.Load() {
			t.Fatal("neither PIDFD_GET_INFO nor its absence was seen")
		}
		t.Logf("no PIDFD_GET_INFO (Linux before 6.13): read the status file")
	}
	if want := uint64(os.Getpid())<<32 | uint64(unix.Gettid()); pidTgid != want {
		t.Errorf("pid_tgid %#x, want %#x", pidTgid, want)
	}
	if want := uint64(os.Getgid())<<32 | uint64(os.Getuid()); uidGid != want {
		t.Errorf("uid_gid %#x, want %#x", uidGid, want)
	}
	if want := strings.TrimSuffix(string(comm), "\n"); gotComm != want {
		t.Errorf("comm %q, want %q", gotComm, want)
	}
}

// bindPermission reads the target's effective capabilities and
// signalPending its pending and blocked signals from its status file.
func TestProcChecks(t *testing.T) {
	nobody := exec.Command("sleep", "10")
	nobody.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if err := nobody.Start(); err != nil {
		t.Skipf("cannot start a command as nobody: %v", err)
	}
	defer func() { nobody.Process.Kill(); nobody.Wait() }()
	w := newWorker(&Link{unprivPort: 1024})
	port80 := []byte{2, 0, 0, 80, 127, 0, 0, 1}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	w.task.reset(unix.Gettid())
	if e := w.bindPermission(port80); e != 0 && os.Geteuid() == 0 {
		t.Errorf("root binding port 80: %v", e)
	}
	w.task.reset(nobody.Process.Pid)
	if e := w.bindPermission(port80); e != unix.EACCES {
		t.Errorf("nobody binding port 80: %v, want EACCES", e)
	}
	if w.signalPending() {
		t.Error("signal pending for a sleeping command")
	}
	// SIGUSR1 stays pending only once the command has stopped: sent
	// before (the stop is taken by the command itself, when it next
	// runs), it kills it, and a zombie's status still lists it pending,
	// so the check would pass without testing anything.
	nobody.Process.Signal(syscall.SIGSTOP)
	if !waitState(nobody.Process.Pid, 'T') {
		t.Fatal("the command did not stop within 30 s")
	}
	nobody.Process.Signal(syscall.SIGUSR1)
	// Sending a signal marks it pending before kill returns.
	if !w.signalPending() {
		t.Error("SIGUSR1 pending for a stopped command not seen")
	}
	if !waitState(nobody.Process.Pid, 'T') {
		t.Error("the stopped command did not stay stopped with SIGUSR1 pending")
	}
}

// waitState waits up to 30 s for process pid to be in state (the third
// field of /proc/PID/stat) and reports whether it is.
func waitState(pid int, state byte) bool {
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		// "PID (comm) S ...": the comm may hold spaces and parentheses.
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && b[i+2] == state {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}
