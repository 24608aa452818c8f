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
	// receivers counts the workers in (or committed to) RECV (see
	// worker and watch).
	receivers atomic.Int32
	workers   sync.WaitGroup
	stopping  chan struct{}
	// pool holds the running workers, for stop to interrupt their RECV.
	poolMu sync.Mutex
	pool   map[*worker]struct{}
	// pidfds caches thread pidfds by thread ID (worker.openPidfd), as
	// *pidfdEntry; pidSeq counts the pidfds opened for it.
	pidfds  sync.Map
	npidfds atomic.Int32
	pidSeq  atomic.Uint64
	// idChecks counts SECCOMP_IOCTL_NOTIF_ID_VALID checks of the
	// notifying task's identity (worker.takeSocket), taskReads the
	// reads of a task's tgid, uid and gid (task.readIDs).
	idChecks  atomic.Uint64
	taskReads atomic.Uint64
	// noPidfdInfo reports that the kernel has no PIDFD_GET_INFO.
	noPidfdInfo atomic.Bool
	// started counts the workers started (startWorker).
	started atomic.Uint64
	logger  *slog.Logger
	once    sync.Once
	// runMu is held (read) by workers running a program; stop takes it to
	// set stopped, so no program runs once Wait or Close has returned.
	runMu   sync.RWMutex
	stopped bool
	// syncWake reports that the kernel took
	// SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP.
	syncWake bool
	// unprivPort is net.ipv4.ip_unprivileged_port_start.
	unprivPort int
}

// attached is one attachment with its counters.
type attached struct {
	Attach
	hook                    hook
	readsSock               bool // the program may read ctx->sk (fillSock)
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
		stopping: make(chan struct{}), pool: map[*worker]struct{}{}}
	if l.logger == nil {
		l.logger = slog.Default()
	}
	ops := map[string]bool{}
	for _, a := range attach {
		h, err := parseHook(a)
		if err != nil {
			return nil, err
		}
		at := &attached{Attach: a, hook: h, readsSock: a.Program.MayReadSocket()}
		l.progs[h] = append(l.progs[h], at)
		l.all = append(l.all, at)
		switch h {
		case hookConnect4, hookConnect6:
			ops["connect"] = true
		case hookBind4, hookBind6, hookPostBind4, hookPostBind6:
			ops["bind"] = true
		case hookSendmsg4, hookSendmsg6:
			ops["send"] = true
			if h == hookSendmsg4 {
				ops["send4"] = true // sends without an address too (sendtoPeer)
			}
		case hookGetpeername4, hookGetpeername6:
			ops["getpeername"] = true
		case hookGetsockname4, hookGetsockname6:
			ops["getsockname"] = true
		case hookSockCreate:
			ops["socket"] = true
		case hookRecvmsg4, hookRecvmsg6:
			ops["recv"] = true
		}
	}
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start"); err == nil {
		if v, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			l.unprivPort = v
		}
	}
	var spec []string
	for _, op := range []string{"connect", "bind", "send", "send4", "getpeername", "getsockname", "socket", "recv"} {
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
	l.syncWake = setSyncWake(l.listener) == nil
	l.startWorker()
	l.workers.Add(1)
	go l.watch()
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
		l.runMu.Lock()
		l.stopped = true
		l.runMu.Unlock()
		go func() {
			// Interrupt the receivers' RECV (Go ignores a stray SIGURG)
			// until every worker is out.
			done := make(chan struct{})
			go func() {
				for {
					select {
					case <-done:
						return
					case <-time.After(time.Millisecond):
					}
					l.poolMu.Lock()
					for w := range l.pool {
						if tid := w.recvTid.Load(); tid != 0 {
							unix.Tgkill(os.Getpid(), int(tid), unix.SIGURG)
						}
					}
					l.poolMu.Unlock()
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

// stallAfter is how long a worker may handle one call (a blocking
// connect, say) before the watchdog starts another to receive meanwhile.
const stallAfter = time.Millisecond

// maxWatchPeriod is how long the watchdog sleeps at most: it looks every
// stallAfter while calls are being handled and backs off to this while
// none is (so a call that stalls after a quiet spell holds up others for
// at most about this long).
const maxWatchPeriod = 16 * time.Millisecond

// startWorker starts a worker counted as a receiver.
func (l *Link) startWorker() {
	l.started.Add(1)
	l.receivers.Add(1)
	l.workers.Add(1)
	go l.worker()
}

// worker receives and handles notifications on a thread of its own, one
// at a time: the supervised task's wake-up goes straight to the thread that
// answers, with no channel or goroutine hop in between. Normally one worker
// waits in RECV (several would all be woken by each notification); when a
// call keeps a worker busy, watch starts another, and a worker that finds
// another receiving after its call exits.
func (l *Link) worker() {
	defer l.workers.Done()
	// Locked for good: the thread exits with the goroutine.
	runtime.LockOSThread()
	w := newWorker(l)
	w.tid = int32(unix.Gettid())
	l.poolMu.Lock()
	l.pool[w] = struct{}{}
	l.poolMu.Unlock()
	defer func() {
		l.poolMu.Lock()
		delete(l.pool, w)
		l.poolMu.Unlock()
	}()
	for {
		ok := l.receive(w)
		l.receivers.Add(-1)
		if !ok {
			return
		}
		w.busySince.Store(nanotime())
		w.handle(&w.notif)
		w.busySince.Store(0)
		if l.receivers.Load() > 0 {
			return
		}
		l.receivers.Add(1)
	}
}

// watch starts a worker when none is receiving and one has been handling a
// call for longer than stallAfter, until the link stops.
func (l *Link) watch() {
	defer l.workers.Done()
	d := stallAfter
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-l.stopping:
			return
		case <-t.C:
		}
		now := nanotime()
		busy, stalled := false, false
		l.poolMu.Lock()
		for w := range l.pool {
			if s := w.busySince.Load(); s != 0 {
				busy = true
				stalled = stalled || now-s >= int64(stallAfter)
			}
		}
		l.poolMu.Unlock()
		if stalled && l.receivers.Load() == 0 {
			l.startWorker()
		}
		// Look less often while no call is being handled.
		if busy {
			d = stallAfter
		} else {
			d = min(2*d, maxWatchPeriod)
		}
		t.Reset(d)
	}
}

// nanotime is a monotonic clock reading in nanoseconds.
func nanotime() int64 { return int64(time.Since(epoch)) + 1 }

var epoch = time.Now()

// receive waits for one notification in a blocking RECV (with synchronous
// wake-ups, the target hands the CPU straight to this thread); false means
// stop. stop interrupts the wait with a signal to this thread.
func (l *Link) receive(w *worker) bool {
	w.recvTid.Store(w.tid)
	defer w.recvTid.Store(0)
	n := &w.notif
	for {
		select {
		case <-l.stopping:
			return false
		default:
		}
		*n = seccompNotif{} // RECV wants it zeroed
		w.recvSeq = l.pidSeq.Load()
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

// setSyncWake sets SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP on the listener.
// SECCOMP_IOCTL_NOTIF_SET_FLAGS takes the flags as the ioctl's argument
// itself, not a pointer to them.
func setSyncWake(listener int) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(listener), ioctlNotifSetFlags, unix.SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP)
	if e != 0 {
		return e
	}
	return nil
}

// rawIoctlPtr is ioctlPtr for requests that never block (SEND, ID_VALID):
// without the scheduler's system call bookkeeping, which costs more than
// such a call on the path of every notification.
func rawIoctlPtr(fd int, req uint, p unsafe.Pointer) error {
	_, _, e := unix.RawSyscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(p))
	if e != 0 {
		return e
	}
	return nil
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
	rawIoctlPtr(l.listener, unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(&r))
}

// cont lets the call run in the kernel as it is (see the decision record
// for when that is safe).
func (l *Link) cont(id uint64) {
	r := seccompResp{ID: id, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
	rawIoctlPtr(l.listener, unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(&r))
}

// valid reports whether the notification is still pending: its task has
// not died (and its ID been reused) since it was received.
func (l *Link) valid(id uint64) bool {
	return rawIoctlPtr(l.listener, ioctlNotifIDValid, unsafe.Pointer(&id)) == nil
}

// forgetPidfd drops e, the cached pidfd of tid, from the cache if it is
// still there.
func (l *Link) forgetPidfd(tid int, e *pidfdEntry) {
	if l.pidfds.CompareAndDelete(tid, e) {
		l.npidfds.Add(-1)
		e.release()
	}
}

// dropPidfds empties the pidfd cache.
func (l *Link) dropPidfds() {
	l.pidfds.Range(func(k, v any) bool {
		l.forgetPidfd(k.(int), v.(*pidfdEntry))
		return true
	})
}
