package sockaddr

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// seccompNotif is struct seccomp_notif; seccompResp struct seccomp_notif_resp.
type seccompNotif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Nr    int32
	Arch  uint32
	IP    uint64
	Args  [6]uint64
}

type seccompResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

// ioctlNotifIDValid is SECCOMP_IOCTL_NOTIF_ID_VALID, _IOW('!', 2, __u64).
const ioctlNotifIDValid = 0x40082102

// ioctlNotifSetFlags is SECCOMP_IOCTL_NOTIF_SET_FLAGS, _IOW('!', 4, __u64).
const ioctlNotifSetFlags = 0x40082104

// Options configure Start.
type Options struct {
	// Logger receives programs' run errors (the call is then refused);
	// nil means slog.Default().
	Logger *slog.Logger
}

// Link supervises a started command. Wait for it, then read the counts.
type Link struct {
	cmd      *exec.Cmd
	listener int
	progs    [numHooks][]*attached
	all      []*attached
	// recvTok is held by the one worker that waits for the next
	// notification (leader/followers: the worker that receives a
	// notification handles it, after handing the token on).
	recvTok  chan struct{}
	idle     atomic.Int32 // workers waiting for the token
	workers  sync.WaitGroup
	stopping chan struct{}
	recvTid  atomic.Int32 // the thread in RECV
	// pidfds caches thread pidfds by thread ID (worker.pidfd).
	pidfds  sync.Map
	npidfds atomic.Int32
	logger  *slog.Logger
	once    sync.Once
	// unprivPort is net.ipv4.ip_unprivileged_port_start.
	unprivPort int
}

// attached is one attachment with its counters.
type attached struct {
	Attach
	hook                    hook
	runs, denied, rewritten atomic.Uint64
}

// Start starts cmd (not yet started; ExtraFiles must be empty) under
// supervision with the attached programs; programs of the same type run in
// the given order, and the call is refused if any refuses it (as Linux runs
// the programs of a cgroup with BPF_F_ALLOW_MULTI). The programs stay owned
// by the caller and must outlive the Link.
func Start(cmd *exec.Cmd, attach []Attach, opts *Options) (*Link, error) {
	if opts == nil {
		opts = &Options{}
	}
	l := &Link{cmd: cmd, listener: -1, logger: opts.Logger, unprivPort: 1024,
		recvTok: make(chan struct{}, 1), stopping: make(chan struct{})}
	if l.logger == nil {
		l.logger = slog.Default()
	}
	ops := map[string]bool{}
	for _, a := range attach {
		h, err := parseHook(a)
		if err != nil {
			return nil, err
		}
		at := &attached{Attach: a, hook: h}
		l.progs[h] = append(l.progs[h], at)
		l.all = append(l.all, at)
		switch h {
		case hookConnect4, hookConnect6:
			ops["connect"] = true
		case hookBind4, hookBind6, hookPostBind4, hookPostBind6:
			ops["bind"] = true
		case hookSendmsg4, hookSendmsg6:
			ops["send"] = true
		case hookGetpeername4, hookGetpeername6:
			ops["getpeername"] = true
		case hookGetsockname4, hookGetsockname6:
			ops["getsockname"] = true
		case hookSockCreate:
			ops["socket"] = true
		}
	}
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start"); err == nil {
		if v, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			l.unprivPort = v
		}
	}
	var spec []string
	for _, op := range []string{"connect", "bind", "send", "getpeername", "getsockname", "socket"} {
		if ops[op] {
			spec = append(spec, op)
		}
	}
	if _, err := filterFor(spec); err != nil {
		return nil, err
	}
	if cmd.Process != nil {
		return nil, errors.New("sockaddr: command already started")
	}
	if len(cmd.ExtraFiles) != 0 {
		return nil, errors.New("sockaddr: command has ExtraFiles; the shim uses fd 3")
	}
	if cmd.Err != nil {
		return nil, cmd.Err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("sockaddr: the shim is this executable: %w", err)
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("sockaddr: control socket: %w", err)
	}
	ctl := os.NewFile(uintptr(pair[0]), "sockaddr-control")
	defer ctl.Close()
	child := os.NewFile(uintptr(pair[1]), "sockaddr-control-child")
	argv := cmd.Args
	if len(argv) == 0 {
		argv = []string{cmd.Path}
	}
	cmd.Args = append([]string{self, cmd.Path}, argv...)
	cmd.Path = self
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(env[:len(env):len(env)], shimEnv+"="+strings.Join(spec, ","))
	cmd.ExtraFiles = []*os.File{child}
	err = cmd.Start()
	child.Close()
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Link, error) {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, err
	}
	line, err := bufio.NewReader(ctl).ReadString('\n')
	if err != nil {
		return fail(fmt.Errorf("sockaddr: the shim did not install its filter (see its error output)"))
	}
	fd, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return fail(fmt.Errorf("sockaddr: shim sent %q", line))
	}
	pidfd, err := unix.PidfdOpen(cmd.Process.Pid, 0)
	if err != nil {
		return fail(fmt.Errorf("sockaddr: pidfd_open: %w", err))
	}
	l.listener, err = unix.PidfdGetfd(pidfd, fd, 0)
	unix.Close(pidfd)
	if err != nil {
		return fail(fmt.Errorf("sockaddr: take the listener (pidfd_getfd): %w", err))
	}
	// Wake the target and the supervisor on the same CPU (Linux 6.6);
	// older kernels refuse the flag, which only costs latency.
	syncWake := uint64(unix.SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP)
	ioctlPtr(l.listener, ioctlNotifSetFlags, unsafe.Pointer(&syncWake))
	l.recvTok <- struct{}{}
	l.workers.Add(1)
	go l.worker()
	if _, err := ctl.Write([]byte{1}); err != nil {
		l.stop()
		return fail(fmt.Errorf("sockaddr: release the shim: %w", err))
	}
	return l, nil
}

// Wait waits for the command to exit and stops supervising; it returns
// cmd.Wait's error (an *exec.ExitError for a non-zero status). Processes the
// command left behind keep the filter: their supervised calls then fail.
func (l *Link) Wait() error {
	err := l.cmd.Wait()
	l.stop()
	return err
}

// Close stops supervising without waiting for the command: its supervised
// calls fail from then on.
func (l *Link) Close() error {
	l.stop()
	return nil
}

// stop stops receiving; the listener closes once the workers are done
// (one may still be in a blocking connect), and from then on the calls of
// any remaining supervised task fail.
func (l *Link) stop() {
	l.once.Do(func() {
		close(l.stopping)
		go func() {
			// Interrupt the receiver's RECV (Go ignores a stray SIGURG)
			// until every worker is out.
			done := make(chan struct{})
			go func() {
				for {
					select {
					case <-done:
						return
					case <-time.After(time.Millisecond):
					}
					if tid := l.recvTid.Load(); tid != 0 {
						unix.Tgkill(os.Getpid(), int(tid), unix.SIGURG)
					}
				}
			}()
			l.workers.Wait()
			close(done)
			unix.Close(l.listener)
			l.dropPidfds()
		}()
	})
}

// Stats returns the counts of each attached program, in attach order.
func (l *Link) Stats() []ProgramStats {
	out := make([]ProgramStats, len(l.all))
	for i, a := range l.all {
		out[i] = ProgramStats{Name: a.Program.Name(), AttachType: a.Type, Runs: a.runs.Load(), Denied: a.denied.Load(), Rewritten: a.rewritten.Load()}
	}
	return out
}

// worker takes turns receiving: it waits for the token, receives one
// notification, hands the token on (starting a new worker if none is idle:
// this one may block in a connect) and handles the notification itself, so
// that no thread switch lies between receiving and answering.
func (l *Link) worker() {
	defer l.workers.Done()
	w := newWorker(l)
	for {
		l.idle.Add(1)
		select {
		case <-l.recvTok:
			l.idle.Add(-1)
		case <-l.stopping:
			l.idle.Add(-1)
			return
		}
		ok := l.receive(&w.notif)
		l.recvTok <- struct{}{}
		if !ok {
			return
		}
		if l.idle.Load() == 0 {
			l.workers.Add(1)
			go l.worker()
		}
		w.handle(&w.notif)
	}
}

// receive waits for one notification in a blocking RECV (with synchronous
// wake-ups, the target hands the CPU straight to this thread); false means
// stop. stop interrupts the wait with a signal to this thread.
func (l *Link) receive(n *seccompNotif) bool {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	l.recvTid.Store(int32(unix.Gettid()))
	defer l.recvTid.Store(0)
	for {
		select {
		case <-l.stopping:
			return false
		default:
		}
		*n = seccompNotif{} // RECV wants it zeroed
		err := ioctlPtr(l.listener, unix.SECCOMP_IOCTL_NOTIF_RECV, unsafe.Pointer(n))
		if err == nil {
			return true
		}
		if err != unix.EINTR && err != unix.ENOENT {
			l.logger.Error("sockaddr: receive notification", "err", err)
			return false
		}
	}
}

func ioctlPtr(fd int, req uint, p unsafe.Pointer) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(p))
	if e != 0 {
		return e
	}
	return nil
}

// respond answers a notification: val on success, or -errno.
func (l *Link) respond(id uint64, val int64, errno unix.Errno) {
	r := seccompResp{ID: id, Val: val}
	if errno != 0 {
		r.Val, r.Error = 0, -int32(errno)
	}
	// ENOENT: the task was killed or interrupted meanwhile.
	ioctlPtr(l.listener, unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(&r))
}

// cont lets the call run in the kernel as it is (see the decision record
// for when that is safe).
func (l *Link) cont(id uint64) {
	r := seccompResp{ID: id, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
	ioctlPtr(l.listener, unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(&r))
}

// valid reports whether the notification is still pending: its task has
// not died (and its ID been reused) since it was received.
func (l *Link) valid(id uint64) bool {
	return ioctlPtr(l.listener, ioctlNotifIDValid, unsafe.Pointer(&id)) == nil
}

// forgetPidfd drops the cached pidfd of tid if it is fd, and reports
// whether it did.
func (l *Link) forgetPidfd(tid, fd int) bool {
	if l.pidfds.CompareAndDelete(tid, fd) {
		l.npidfds.Add(-1)
		unix.Close(fd)
		return true
	}
	return false
}

// dropPidfds empties the pidfd cache.
func (l *Link) dropPidfds() {
	l.pidfds.Range(func(k, v any) bool {
		l.forgetPidfd(k.(int), v.(int))
		return true
	})
}
