package sockaddr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/platform/linux"
	"golang.org/x/sys/unix"
)

// Limits of what the supervisor copies from a target, as the kernel's.
const (
	maxAddr    = 128     // sizeof(struct sockaddr_storage)
	maxIov     = 1024    // UIO_MAXIOV
	maxData    = 1 << 20 // a larger datagram is refused with EMSGSIZE
	maxControl = 1 << 16
	msghdrSize = 56
	mmsgSize   = 64
	pidfdThrd  = unix.O_EXCL // PIDFD_THREAD
	soNetns    = 71          // SO_NETNS_COOKIE
	maxPidfds  = 4096        // cached thread pidfds (a dead thread's leaves on ESRCH)
)

// worker handles notifications one at a time with memory of its own: the
// contexts programs see live on the heap and never move (DESIGN.md #2).
type worker struct {
	l     *Link
	notif seccompNotif
	ctx   *linux.SockAddrContext
	sk    *linux.SockContext
	run   bpfhost.SockRun
	task  task
	sock  sock
	addr  [maxAddr]byte
	data  []byte
	ctl   []byte
	// src is the message source of a send (msg_src_ip4 in its first 4
	// bytes, or msg_src_ip6) that the sendmsg programs read and may set;
	// ctlSrc holds control messages that set a source they changed.
	src    [16]byte
	ctlSrc []byte
	iov    []unix.RemoteIovec
	// iovRaw holds an iovec array as read from the target.
	iovRaw [maxIov * 16]byte
	// in gathers the reads of a call's arguments from the target's
	// memory, out the writes of its answer; nameLen and msgTail are
	// what out writes from besides the buffers above (a source
	// address's length; msg_controllen and msg_flags).
	in      memCopies
	out     memCopies
	nameLen [4]byte
	msgTail [12]byte
	// recvSeq is the Link's pidSeq before the worker's last RECV; early
	// reports that the pidfd of the call being handled is a thread
	// pidfd opened before that (see takeSocket).
	recvSeq uint64
	early   bool
	// writesBack reports that the call being handled writes its answer
	// into the target's memory (see takeSocket).
	writesBack bool
	// wantState asks takeSocket for a TCP socket's state (a connect).
	wantState bool
	// skFilled says runHook filled sk from the socket for a program that
	// reads ctx->sk (fillSock), which helpers that change the socket
	// then refresh.
	skFilled bool
	// pfd is the pidfd of the call being handled (-1 if none), pe its
	// cache entry if it is cached.
	pfd int
	pe  *pidfdEntry
	// tid is the worker's thread; recvTid is tid while it waits in RECV.
	tid     int32
	recvTid atomic.Int32
	// busySince is when the worker received the call it is handling
	// (nanotime), or 0.
	busySince atomic.Int64
}

func newWorker(l *Link) *worker {
	w := &worker{l: l, ctx: new(linux.SockAddrContext), sk: new(linux.SockContext), pfd: -1, in: memCopies{read: true}}
	w.task.l, w.task.buf = l, new([4096]byte)
	w.run.SetTask(&w.task, &w.sock)
	return w
}

// task is the notifying thread, for the task helpers; what they need is
// read on first use. tgid, uid and gid come from PIDFD_GET_INFO on the
// thread's pidfd (Linux 6.13; one ioctl) where it works, else from
// /proc/TID/status, which costs tens of µs, more than supervising the
// call. A thread's tgid, which never changes, is kept with its cached
// pidfd: pe, set once takeSocket has made sure the pidfd names the
// notifier. uid, gid and comm can change at any time and are read for each
// call that asks.
type task struct {
	tid, tgid int
	uidgid    uint64
	comm      string
	status    bool // tgid and uidgid are read (comm too if !info)
	info      bool // they came from PIDFD_GET_INFO
	commRead  bool
	// pfd is the notifying thread's pidfd (worker.openPidfd), -1 if none
	// or if it is a process pidfd (whose information is the leader's).
	pfd int
	pe  *pidfdEntry
	l   *Link
	buf *[4096]byte // what /proc files are read into
}

func (t *task) reset(tid int) { *t = task{tid: tid, pfd: -1, l: t.l, buf: t.buf} }

// readIDs reads tgid, uid and gid: from the pidfd if it can, else
// from /proc/TID/status (with comm).
func (t *task) readIDs() {
	if t.status {
		return
	}
	t.status = true
	t.tgid = t.tid
	if t.l != nil {
		t.l.taskReads.Add(1)
	}
	if t.pfd >= 0 && (t.l == nil || !t.l.noPidfdInfo.Load()) {
		info := unix.PidfdInfo{Mask: unix.PIDFD_INFO_PID | unix.PIDFD_INFO_CREDS}
		_, _, e := unix.RawSyscall(unix.SYS_IOCTL, uintptr(t.pfd), unix.PIDFD_GET_INFO, uintptr(unsafe.Pointer(&info)))
		switch {
		case e == 0 && info.Mask&(unix.PIDFD_INFO_PID|unix.PIDFD_INFO_CREDS) == unix.PIDFD_INFO_PID|unix.PIDFD_INFO_CREDS:
			t.info = true
			t.tgid = int(info.Tgid)
			t.uidgid = uint64(info.Rgid)<<32 | uint64(info.Ruid)
			if t.pe != nil {
				t.pe.tgid.Store(int32(t.tgid))
			}
			return
		case e == unix.ENOTTY || e == unix.EINVAL:
			if t.l != nil {
				t.l.noPidfdInfo.Store(true) // Linux before 6.13
			}
		}
	}
	b, err := readProc(t.tid, "status", t.buf[:])
	if err != nil {
		return
	}
	if v := procField(b, "Tgid"); len(v) > 0 {
		t.tgid = int(leadingUint(v))
	}
	t.uidgid = leadingUint(procField(b, "Gid"))<<32 | leadingUint(procField(b, "Uid"))
	t.comm = string(procField(b, "Name"))
	if t.pe != nil {
		t.pe.tgid.Store(int32(t.tgid))
	}
}

func (t *task) PidTgid() uint64 {
	if t.tgid == 0 && t.pe != nil {
		t.tgid = int(t.pe.tgid.Load())
	}
	if t.tgid == 0 {
		t.readIDs()
	}
	return uint64(t.tgid)<<32 | uint64(uint32(t.tid))
}
func (t *task) UidGid() uint64 { t.readIDs(); return t.uidgid }

// Comm reads /proc/TID/comm, which costs less than the status file, unless
// that was read for this call already.
func (t *task) Comm() string {
	if (!t.status || t.info) && !t.commRead {
		t.commRead = true
		if b, err := readProc(t.tid, "comm", t.buf[:]); err == nil {
			t.comm = string(bytes.TrimSuffix(b, []byte("\n")))
		}
	}
	return t.comm
}

// sock is the supervisor's duplicate of the target's socket.
type sock struct {
	fd                    int
	domain, typ, protocol int
	created               int     // the protocol it was created with (MPTCP's is not protocol); -1 unknown
	w                     *worker // whose task the socket is the target's of (for bpf_bind), or nil
	tcpState              int     // tcp_info's tcpi_state if takeSocket read it, else -1
	cookieRead, netnsRead bool
	cookie, netns         uint64
	// storage says a program gave the socket sk storage (sockCreate
	// must then install this socket in the target).
	storage bool
}

func (s *sock) Cookie() uint64 {
	if !s.cookieRead {
		s.cookieRead = true
		s.cookie, _ = getsockoptU64(s.fd, unix.SO_COOKIE)
	}
	return s.cookie
}

func (s *sock) NetnsCookie() uint64 {
	if !s.netnsRead {
		s.netnsRead = true
		s.netns, _ = getsockoptU64(s.fd, soNetns)
	}
	return s.netns
}

// Bind is bpf_bind: bind from a connect program, as Linux's __inet_bind
// with BIND_FROM_BPF. Port 0 binds the address only
// (BIND_FORCE_ADDRESS_NO_PORT: the port is chosen at connect, for the
// destination), a port below net.ipv4.ip_unprivileged_port_start needs
// the target's CAP_NET_BIND_SERVICE (the supervisor binds with its own
// rights), and a family other than IPv4 and IPv6 is EAFNOSUPPORT.
func (s *sock) Bind(addr []byte) int64 {
	if len(addr) < 2 {
		return -int64(unix.EINVAL)
	}
	fam := binary.LittleEndian.Uint16(addr)
	switch {
	case fam != unix.AF_INET && fam != unix.AF_INET6:
		return -int64(unix.EAFNOSUPPORT)
	case (fam == unix.AF_INET && len(addr) < 16) || (fam == unix.AF_INET6 && len(addr) < 24):
		return -int64(unix.EINVAL)
	}
	noPort := addr[2] == 0 && addr[3] == 0
	if !noPort && s.w != nil {
		if e := s.w.bindPermission(addr); e != 0 {
			return -int64(e)
		}
	}
	was := 1
	if noPort {
		// Set for the bind and put back as it was: the option is the
		// target's, and the flag Linux passes is not an option.
		was, _ = getsockoptIntLevel(s.fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT)
		if was == 0 {
			unix.SetsockoptInt(s.fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
		}
	}
	_, _, e := unix.Syscall(unix.SYS_BIND, uintptr(s.fd), uintptr(unsafe.Pointer(&addr[0])), uintptr(len(addr)))
	if was == 0 {
		unix.SetsockoptInt(s.fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 0)
	}
	if e == 0 {
		s.refresh() // ctx->sk shows the new source
	}
	return -int64(e)
}

// getsockoptIntLevel is getsockopt(fd, level, opt) for an int option.
func getsockoptIntLevel(fd, level, opt int) (int, unix.Errno) {
	var v int32
	l := uint32(4)
	_, _, e := unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt), uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&l)), 0)
	return int(v), e
}

func getsockoptU64(fd, opt int) (uint64, error) {
	var v uint64
	l := uint32(8)
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, uintptr(opt), uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return 0, e
	}
	return v, nil
}

// readMem copies from the target's memory; a short read is EFAULT. It may
// block (a page under userfaultfd, say), so unlike the other calls on the
// path of every notification it keeps the scheduler's system call
// bookkeeping.
func (w *worker) readMem(tid int, addr uint64, b []byte) unix.Errno {
	if len(b) == 0 {
		return 0
	}
	local := unix.Iovec{Base: &b[0], Len: uint64(len(b))}
	remote := unix.RemoteIovec{Base: uintptr(addr), Len: len(b)}
	n, _, e := unix.Syscall6(unix.SYS_PROCESS_VM_READV, uintptr(tid), uintptr(unsafe.Pointer(&local)), 1, uintptr(unsafe.Pointer(&remote)), 1, 0)
	if e != 0 || int(n) != len(b) {
		return unix.EFAULT
	}
	return 0
}

// pidfdGetfd is pidfd_getfd(pidfd, fd, 0) (the new fd is close-on-exec).
// It and getsockoptInt never block, so they skip the scheduler's system
// call bookkeeping, which costs more than such a call.
func pidfdGetfd(pidfd, fd int) (int, unix.Errno) {
	r, _, e := unix.RawSyscall(unix.SYS_PIDFD_GETFD, uintptr(pidfd), uintptr(fd), 0)
	if e != 0 {
		return -1, e
	}
	return int(r), 0
}

// getsockoptInt is getsockopt(fd, SOL_SOCKET, opt) for an int option.
func getsockoptInt(fd, opt int) (int, unix.Errno) {
	var v int32
	l := uint32(4)
	_, _, e := unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, uintptr(opt), uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&l)), 0)
	return int(v), e
}

// writeMem copies into the target's memory.
func (w *worker) writeMem(tid int, addr uint64, b []byte) unix.Errno {
	n, err := unix.ProcessVMWritev(tid, []unix.Iovec{{Base: &b[0], Len: uint64(len(b))}}, []unix.RemoteIovec{{Base: uintptr(addr), Len: len(b)}}, 0)
	if err != nil || n != len(b) {
		return unix.EFAULT
	}
	return 0
}

// pidfdEntry is a cached thread pidfd. seq is the Link's pidSeq after it
// was opened. refs counts the cache's reference and the workers using it;
// the last one to let go closes fd, so no worker sees the number reused.
type pidfdEntry struct {
	tgid atomic.Int32 // the thread's tgid once read (task), or 0
	fd   int
	seq  uint64
	refs atomic.Int32
}

// acquire takes a reference unless the entry is being dropped.
func (e *pidfdEntry) acquire() bool {
	for {
		r := e.refs.Load()
		if r <= 0 {
			return false
		}
		if e.refs.CompareAndSwap(r, r+1) {
			return true
		}
	}
}

func (e *pidfdEntry) release() {
	if e.refs.Add(-1) == 0 {
		unix.Close(e.fd)
	}
}

// openPidfd sets w.pfd to a pidfd of the notifying thread; before Linux
// 6.9 (no PIDFD_THREAD) of its process. Thread pidfds are cached (w.pe): a
// pidfd names one task for good (a reused thread ID gets a new pidfd, as
// the old one fails with ESRCH), so the cache is never wrong, only stale.
// Process pidfds are not: the thread ID may be reused by another process.
// w.early reports that w.pfd is a thread pidfd opened before this worker
// called RECV for the notification (see takeSocket). closePidfd lets go.
func (w *worker) openPidfd() unix.Errno {
	w.early = false
	if v, ok := w.l.pidfds.Load(w.task.tid); ok {
		if e := v.(*pidfdEntry); e.acquire() {
			w.pe, w.pfd, w.early = e, e.fd, e.seq <= w.recvSeq
			w.task.pfd = w.pfd
			return 0
		}
	}
	fd, err := unix.PidfdOpen(w.task.tid, pidfdThrd)
	if err == nil {
		w.pfd, w.task.pfd = fd, fd
		if w.l.npidfds.Load() >= maxPidfds {
			// A full cache is not emptied while workers may use it.
			return 0
		}
		e := &pidfdEntry{fd: fd, seq: w.l.pidSeq.Add(1)}
		e.refs.Store(2) // the cache's and this worker's
		if _, loaded := w.l.pidfds.LoadOrStore(w.task.tid, e); !loaded {
			w.l.npidfds.Add(1)
			w.pe = e
		}
		return 0
	}
	if err == unix.EINVAL {
		w.task.readIDs()
		fd, err = unix.PidfdOpen(w.task.tgid, 0)
	}
	if err != nil {
		return unix.ESRCH
	}
	w.pfd = fd
	return 0
}

// closePidfd lets go of w.pfd.
func (w *worker) closePidfd() {
	if w.pe != nil {
		w.pe.release()
	} else if w.pfd >= 0 {
		unix.Close(w.pfd)
	}
	w.pe, w.pfd, w.task.pfd = nil, -1, -1
}

// takeSocket duplicates the target's fd into w.sock and makes sure the
// memory read before and the socket taken were the notifying task's.
// Errors are answered to the target.
//
// The notifying task held its thread ID when RECV returned its
// notification (a task that dies before leaves the queue; after, it keeps
// its ID until it is reaped). A thread pidfd names one struct pid, whose
// number stays taken from its allocation until it has no task left, and
// pidfd_getfd succeeds only while it has one. So if the pidfd was opened
// before the worker called RECV (w.early) and pidfd_getfd succeeds, the
// ID named the pidfd's struct pid throughout, from before the notification
// was received until now: its task was the notifier when the notification
// was received and during the memory read, and is now the notifier or, if
// another thread of its process has since exec'd (de_thread hands the
// leader's struct pid to the exec'ing thread and kills the notifier), that
// thread, whose call the supervisor then performs as it would have after a
// check too (with the address it read and the programs checked). Calls
// that write an answer into the target's memory (w.writesBack) are checked
// anyway, so that no answer goes to a program the exec brought in. In the
// other cases (a pidfd opened after the notification, maybe after the
// notifier died and its ID was reused; or a process pidfd) the
// notification is checked to be still live (SECCOMP_IOCTL_NOTIF_ID_VALID):
// then its task held the ID from the notification on.
func (w *worker) takeSocket(n *seccompNotif) unix.Errno {
	fd, err := pidfdGetfd(w.pfd, int(int32(n.Args[0])))
	early := w.early
	if err == unix.ESRCH && w.pe != nil {
		// A cached pidfd of a thread that died: the notifying task
		// reuses its ID (or died too, which the check below finds).
		w.l.forgetPidfd(w.task.tid, w.pe)
		w.closePidfd()
		if w.openPidfd() == 0 {
			fd, err = pidfdGetfd(w.pfd, int(int32(n.Args[0])))
		}
		early = false
	}
	if !early || err != 0 || w.writesBack {
		w.l.idChecks.Add(1)
		if !w.l.valid(n.ID) {
			if err == 0 {
				unix.Close(fd)
			}
			return unix.ESRCH
		}
	}
	if err != 0 {
		if err == unix.EBADF {
			return unix.EBADF
		}
		return unix.EPERM // fail closed: the call cannot be checked
	}
	w.sock = sock{fd: fd, w: w}
	w.task.pe = w.pe // names the notifier (or, after an exec, its successor)
	w.sock.tcpState = -1
	// A connect needs a TCP socket's state too (tcpClosed): it asks
	// getsockname instead of SO_DOMAIN, whose family is the domain and
	// whose port 0 means a closed socket (every other state has one), so
	// that only a socket with a port costs one more call (TCP_INFO).
	port := -1
	if w.wantState {
		var local [maxAddr]byte
		l := uint32(maxAddr)
		_, _, e := unix.RawSyscall(unix.SYS_GETSOCKNAME, uintptr(fd), uintptr(unsafe.Pointer(&local[0])), uintptr(unsafe.Pointer(&l)))
		if e == 0 && l >= 4 {
			w.sock.domain = int(binary.LittleEndian.Uint16(local[:]))
			port = int(local[2])<<8 | int(local[3])
		}
	}
	if port < 0 {
		var e unix.Errno
		if w.sock.domain, e = getsockoptInt(fd, unix.SO_DOMAIN); e != 0 {
			unix.Close(fd)
			w.sock.fd = -1
			return unix.ENOTSOCK
		}
	}
	w.sock.protocol, _ = getsockoptInt(fd, unix.SO_PROTOCOL)
	w.sock.created = w.sock.protocol
	switch w.sock.protocol { // one syscall less on the hot path
	case unix.IPPROTO_TCP:
		w.sock.typ = unix.SOCK_STREAM
	case unix.IPPROTO_UDP:
		w.sock.typ = unix.SOCK_DGRAM
	case unix.IPPROTO_MPTCP:
		// Linux runs the connect and bind programs on an MPTCP
		// socket's first subflow, a TCP socket: so do they here.
		w.sock.protocol, w.sock.typ = unix.IPPROTO_TCP, unix.SOCK_STREAM
	default:
		w.sock.typ, _ = getsockoptInt(fd, unix.SO_TYPE)
	}
	if port == 0 && w.sock.inet() && w.sock.protocol == unix.IPPROTO_TCP {
		w.sock.tcpState = unix.BPF_TCP_CLOSE
	}
	return 0
}

// inet reports whether the socket is IPv4 or IPv6.
func (s *sock) inet() bool { return s.domain == unix.AF_INET || s.domain == unix.AF_INET6 }

// hooked reports whether Linux runs sock_addr programs for the socket's
// protocol: TCP (MPTCP through its TCP subflow), UDP and UDP-Lite (not its
// connect: udplite_prot has no pre_connect); raw and ping sockets have
// their own bind and no pre_connect.
func (s *sock) hooked() bool {
	return s.inet() && (s.protocol == unix.IPPROTO_TCP || s.udp())
}

// addrHooked reports whether Linux runs the bind (or connect) programs on
// the socket's binds (connects): those of hooked sockets, except UDP-Lite's
// connects (udplite_prot has no pre_connect), and the connects of IPv4 ping
// sockets (ping_pre_connect; ping_bind runs no program).
func (s *sock) addrHooked(bind bool) bool {
	switch {
	case s.protocol == unix.IPPROTO_UDPLITE:
		return bind && s.inet()
	case s.hooked():
		return true
	}
	return !bind && s.domain == unix.AF_INET && s.protocol == unix.IPPROTO_ICMP && s.typ == unix.SOCK_DGRAM
}

// udp reports whether the socket is UDP or UDP-Lite, which runs the same
// sendmsg, recvmsg and bind programs.
func (s *sock) udp() bool {
	return s.protocol == unix.IPPROTO_UDP || s.protocol == unix.IPPROTO_UDPLITE
}

// handle answers one notification.
func (w *worker) handle(n *seccompNotif) {
	w.task.reset(int(n.Pid))
	w.sock = sock{fd: -1}
	errno := w.openPidfd()
	if errno != 0 {
		w.l.respond(n.ID, 0, errno)
		return
	}
	var val int64
	cont := false
	switch n.Nr {
	case unix.SYS_CONNECT, unix.SYS_BIND, unix.SYS_SENDTO, unix.SYS_SENDMSG, unix.SYS_SOCKET:
		w.writesBack = false
	default:
		w.writesBack = true
	}
	switch n.Nr {
	case unix.SYS_CONNECT, unix.SYS_BIND:
		val, cont, errno = w.connectOrBind(n)
	case unix.SYS_SENDTO:
		val, cont, errno = w.sendto(n)
	case unix.SYS_SENDMSG:
		val, cont, errno = w.sendmsg(n, n.Args[1], int(int32(n.Args[2])))
	case unix.SYS_SENDMMSG:
		val, cont, errno = w.sendmmsg(n)
	case unix.SYS_GETPEERNAME, unix.SYS_GETSOCKNAME:
		val, cont, errno = w.getname(n)
	case unix.SYS_RECVFROM:
		val, cont, errno = w.recvfrom(n)
	case unix.SYS_RECVMSG:
		val, cont, errno = w.recvmsg(n, n.Args[1], int(int32(n.Args[2])))
	case unix.SYS_RECVMMSG:
		val, cont, errno = w.recvmmsg(n)
	case unix.SYS_SOCKET:
		var answered bool
		if val, cont, answered, errno = w.sockCreate(n); answered {
			w.closeTaken()
			return
		}
	default:
		errno = unix.ENOSYS
	}
	w.closeTaken()
	if cont {
		w.l.cont(n.ID)
		return
	}
	w.l.respond(n.ID, val, errno)
}

// connectOrBind handles connect(fd, addr, len) and bind(fd, addr, len).
func (w *worker) connectOrBind(n *seccompNotif) (int64, bool, unix.Errno) {
	size := int(int32(n.Args[2]))
	if size < 0 || size > maxAddr {
		return 0, false, unix.EINVAL
	}
	addr := w.addr[:size]
	if e := w.readMem(w.task.tid, n.Args[1], addr); e != 0 {
		return 0, false, e
	}
	bind := n.Nr == unix.SYS_BIND
	w.wantState = !bind
	e := w.takeSocket(n)
	w.wantState = false
	if e != 0 {
		return 0, false, e
	}
	if !w.sock.inet() {
		// Unix-domain and other sockets pass through untouched.
		return 0, true, 0
	}
	fam := -1
	if size >= 2 {
		fam = int(binary.LittleEndian.Uint16(addr))
	}
	if w.sock.hooked() && !bind && w.sock.protocol == unix.IPPROTO_TCP && fam >= 0 && fam != unix.AF_UNSPEC && !w.tcpClosed() {
		// __inet_stream_connect runs the programs only on a closed
		// socket: a connecting one answers EALREADY (or waits), a
		// connected or listening one EISCONN, without them. Connected
		// with a family and no address, the socket cannot connect
		// anywhere unchecked if another thread disconnects it meanwhile
		// (tcp_v4_connect and tcp_v6_connect refuse the length).
		size = 2
		addr = addr[:2]
	} else if w.sock.addrHooked(bind) && !(fam == unix.AF_UNSPEC && !bind) {
		min, h := 16, hookConnect4
		if w.sock.domain == unix.AF_INET6 {
			min, h = 24, hookConnect6
			if !bind && w.sock.protocol == unix.IPPROTO_UDP && fam == unix.AF_INET {
				// udpv6_pre_connect runs the IPv4 programs on an
				// IPv4 address.
				if w.v6Only() {
					return 0, false, unix.EAFNOSUPPORT
				}
				min, h = 16, hookConnect4
			}
		}
		if bind {
			h += hookBind4 - hookConnect4
		}
		if size < min {
			return 0, false, unix.EINVAL
		}
		flags, e := w.runHook(h, addr)
		if e != 0 {
			return 0, false, e
		}
		if bind && flags&2 == 0 {
			if e := w.bindPermission(addr); e != 0 {
				return 0, false, e
			}
		}
	}
	nr := uintptr(unix.SYS_CONNECT)
	if bind {
		nr = unix.SYS_BIND
	}
	var p uintptr
	if size > 0 {
		p = uintptr(unsafe.Pointer(&addr[0]))
	}
	_, _, e = unix.Syscall(nr, uintptr(w.sock.fd), p, uintptr(size))
	if bind && e == 0 && w.sock.hooked() {
		h := hookPostBind4
		if w.sock.domain == unix.AF_INET6 {
			h = hookPostBind6
		}
		if len(w.l.progs[h]) > 0 {
			e = w.postBind(n, h)
		}
	}
	return 0, false, e
}

// tcpClosed reports whether the taken TCP socket is in state TCP_CLOSE
// (tcp_info's first byte), where a connect runs the programs.
func (w *worker) tcpClosed() bool {
	return w.tcpState() == unix.BPF_TCP_CLOSE
}

// postBind runs the post_bind programs on the bound socket. Linux undoes a
// refused bind; user space cannot unbind a socket, so the supervisor puts a
// fresh socket of the same kind in the target's fd slot instead
// (SECCOMP_IOCTL_NOTIF_ADDFD with SETFD, while the target waits) and the
// call fails with EPERM. The fresh socket keeps the file status flags
// (O_NONBLOCK) and close-on-exec, not socket options set before the bind.
func (w *worker) postBind(n *seccompNotif, h hook) unix.Errno {
	sk := w.sk
	*sk = linux.SockContext{Family: uint32(w.sock.domain), Type: uint32(w.sock.typ), Protocol: uint32(w.sock.protocol)}
	var local [maxAddr]byte
	l := uint32(maxAddr)
	if _, _, e := unix.Syscall(unix.SYS_GETSOCKNAME, uintptr(w.sock.fd), uintptr(unsafe.Pointer(&local[0])), uintptr(unsafe.Pointer(&l))); e != 0 {
		return e
	}
	sk.SrcPort = uint32(binary.BigEndian.Uint16(local[2:4])) // host order in bpf_sock
	if h == hookPostBind6 {
		for i := range sk.SrcIP6 {
			sk.SrcIP6[i] = binary.LittleEndian.Uint32(local[8+4*i:])
		}
	} else {
		sk.SrcIP4 = binary.LittleEndian.Uint32(local[4:8])
	}
	denied := false
	for _, a := range w.l.progs[h] {
		r, err := w.runSock(a, sk)
		if !w.verdict(a, r, err) {
			denied = true
		}
	}
	if !denied {
		return 0
	}
	fl, err := unix.FcntlInt(uintptr(w.sock.fd), unix.F_GETFL, 0)
	if err != nil {
		fl = 0
	}
	fresh, err := unix.Socket(w.sock.domain, w.sock.typ|unix.SOCK_CLOEXEC|(fl&unix.O_NONBLOCK), w.sock.created)
	if err != nil {
		return unix.EPERM
	}
	defer unix.Close(fresh)
	add := seccompAddfd{ID: n.ID, Flags: unix.SECCOMP_ADDFD_FLAG_SETFD, SrcFD: uint32(fresh), NewFD: uint32(int32(n.Args[0]))}
	if w.cloexec(int(int32(n.Args[0]))) {
		add.NewFDFlags = unix.O_CLOEXEC
	}
	ioctlPtr(w.l.listener, ioctlNotifAddfd, unsafe.Pointer(&add))
	return unix.EPERM
}

// cloexec reports whether the target's fd is close-on-exec (fdinfo flags).
func (w *worker) cloexec(fd int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(w.task.tid) + "/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			f, err := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
			return err == nil && f&unix.O_CLOEXEC != 0
		}
	}
	return false
}

// bindPermission is Linux's port check in __inet_bind: ports below
// net.ipv4.ip_unprivileged_port_start need CAP_NET_BIND_SERVICE, here of
// the target (the supervisor performs the bind with its own rights).
func (w *worker) bindPermission(addr []byte) unix.Errno {
	port := int(binary.BigEndian.Uint16(addr[2:4]))
	if port == 0 || port >= w.l.unprivPort {
		return 0
	}
	b, err := readProc(w.task.tid, "status", w.task.buf[:])
	if err != nil {
		return unix.EACCES
	}
	caps, err := strconv.ParseUint(string(procField(b, "CapEff")), 16, 64)
	if err == nil && caps&(1<<unix.CAP_NET_BIND_SERVICE) != 0 {
		return 0
	}
	return unix.EACCES
}

// runHook runs the programs of h on addr (a sockaddr_in or sockaddr_in6
// long enough for its family's fields) and writes their rewrites back into
// it. It returns the OR of the programs' return bits above bit 0, or EPERM
// if a program refused the call or failed.
func (w *worker) runHook(h hook, addr []byte) (uint32, unix.Errno) {
	progs := w.l.progs[h]
	if len(progs) == 0 {
		return 0, 0
	}
	v6 := h.v6()
	c := w.ctx
	*c = linux.SockAddrContext{}
	c.UserFamily = uint32(binary.LittleEndian.Uint16(addr))
	c.UserPort = uint32(addr[2]) | uint32(addr[3])<<8 // network order in memory
	if v6 {
		for i := range c.UserIP6 {
			c.UserIP6[i] = binary.LittleEndian.Uint32(addr[8+4*i:])
		}
	} else {
		c.UserIP4 = binary.LittleEndian.Uint32(addr[4:8])
	}
	c.Family, c.Type, c.Protocol = uint32(w.sock.domain), uint32(w.sock.typ), uint32(w.sock.protocol)
	switch h {
	case hookSendmsg4:
		c.MsgSrcIP4 = binary.LittleEndian.Uint32(w.src[:4])
	case hookSendmsg6:
		for i := range c.MsgSrcIP6 {
			c.MsgSrcIP6[i] = binary.LittleEndian.Uint32(w.src[4*i:])
		}
	}
	*w.sk = linux.SockContext{Family: c.Family, Type: c.Type, Protocol: c.Protocol}
	w.skFilled = false
	for _, a := range progs {
		if a.readsSock {
			w.fillSock(w.sk)
			w.skFilled = true
			break
		}
	}
	var flags uint32
	denied := false
	for _, a := range progs {
		before := *c
		r, err := w.runSockAddr(a, c)
		if !w.verdict(a, r, err) {
			denied = true
		}
		flags |= r &^ 1
		after := *c
		after.SK, before.SK = 0, 0
		if after != before {
			a.rewritten.Add(1)
		}
	}
	if denied {
		return 0, unix.EPERM
	}
	switch h {
	case hookSendmsg4:
		binary.LittleEndian.PutUint32(w.src[:4], c.MsgSrcIP4)
	case hookSendmsg6:
		for i, x := range c.MsgSrcIP6 {
			binary.LittleEndian.PutUint32(w.src[4*i:], x)
		}
	}
	addr[2], addr[3] = byte(c.UserPort), byte(c.UserPort>>8)
	if v6 {
		for i, x := range c.UserIP6 {
			binary.LittleEndian.PutUint32(addr[8+4*i:], x)
		}
	} else {
		binary.LittleEndian.PutUint32(addr[4:8], c.UserIP4)
	}
	return flags, 0
}

// checkedSend reports whether a send with these flags on the taken socket
// carries an address some program checks: UDP's destination, or the one
// TCP Fast Open connects to (MSG_FASTOPEN). TCP otherwise ignores the
// address and other sockets have no hook: their sends continue.
func (w *worker) checkedSend(flags int) bool {
	return w.sock.inet() && (w.sock.udp() ||
		(w.sock.protocol == unix.IPPROTO_TCP && flags&unix.MSG_FASTOPEN != 0))
}

// destHook runs the programs for a checked send's address and control
// messages and returns those to send with: the sendmsg programs for UDP
// (udpSend), the connect programs for TCP Fast Open.
func (w *worker) destHook(addr, ctl []byte) ([]byte, []byte, unix.Errno) {
	if w.sock.protocol != unix.IPPROTO_TCP {
		return w.udpSend(addr, ctl)
	}
	need, h := 16, hookConnect4
	if w.sock.domain == unix.AF_INET6 {
		need, h = 24, hookConnect6
	}
	if len(addr) < need {
		return nil, nil, unix.EINVAL
	}
	_, e := w.runHook(h, addr)
	return addr, ctl, e
}

func isV4Mapped(ip []byte) bool {
	for _, b := range ip[:10] {
		if b != 0 {
			return false
		}
	}
	return ip[10] == 0xff && ip[11] == 0xff
}

// sendto handles sendto(fd, buf, len, flags, addr, addrlen) with an address
// (the filter lets the others through).
func (w *worker) sendto(n *seccompNotif) (int64, bool, unix.Errno) {
	if n.Args[4] == 0 {
		return w.sendtoPeer(n)
	}
	size := int(int32(n.Args[5]))
	if size < 0 || size > maxAddr {
		return 0, false, unix.EINVAL
	}
	addr := w.addr[:size]
	length := n.Args[2]
	if length > maxData {
		// As Linux: a bad address is EFAULT before any size check.
		if e := w.readMem(w.task.tid, n.Args[4], addr); e != 0 {
			return 0, false, e
		}
		return 0, false, unix.EMSGSIZE
	}
	data := w.buf(&w.data, int(length))
	w.in.reset()
	w.in.add(w, n.Args[4], addr)
	w.in.add(w, n.Args[1], data)
	if e := w.in.flush(w); e != 0 {
		return 0, false, e
	}
	if e := w.takeSocket(n); e != 0 {
		return 0, false, e
	}
	if !w.checkedSend(int(int32(n.Args[3]))) {
		return 0, true, 0
	}
	if size == 0 && w.sock.udp() {
		// An address of length 0 is one too short for UDP, not none.
		return 0, false, unix.EINVAL
	}
	addr, ctl, e := w.destHook(addr, nil)
	if e != 0 {
		return 0, false, e
	}
	r, e := w.send(addr, data, ctl, int(int32(n.Args[3])))
	return r, false, e
}

// sendtoPeer handles a sendto without an address (send), which the filter
// traps only when sendmsg4 programs are attached: Linux runs them when a
// UDPv6 socket connected to an IPv4-mapped peer sends without an address
// (udpv6_sendmsg hands the peer to udp_sendmsg as the address). The
// supervisor then sends to the checked peer explicitly (udpSend); every
// other socket's call continues in the kernel, which runs no program for
// it. write and writev are not trapped (docs/decisions/0038).
func (w *worker) sendtoPeer(n *seccompNotif) (int64, bool, unix.Errno) {
	if e := w.takeSocket(n); e != 0 {
		return 0, false, e
	}
	if w.sock.domain != unix.AF_INET6 || !w.sock.udp() {
		return 0, true, 0
	}
	length := n.Args[2]
	if length > maxData {
		return 0, false, unix.EMSGSIZE
	}
	data := w.buf(&w.data, int(length))
	if e := w.readMem(w.task.tid, n.Args[1], data); e != 0 {
		return 0, false, e
	}
	// The data was read after the socket was taken (only this socket's
	// kind says whether to read it): the notification still pending
	// shows that its task held the thread ID throughout the read.
	w.l.idChecks.Add(1)
	if !w.l.valid(n.ID) {
		return 0, false, unix.ESRCH
	}
	addr, ctl, e := w.udpSend(nil, nil)
	if e != 0 {
		return 0, false, e
	}
	r, e := w.send(addr, data, ctl, int(int32(n.Args[3])))
	return r, false, e
}

// send performs a send on the taken socket: to addr (none if empty), with
// control messages ctl.
func (w *worker) send(addr, data, ctl []byte, flags int) (int64, unix.Errno) {
	var msg unix.Msghdr
	if len(addr) > 0 {
		msg.Name, msg.Namelen = &addr[0], uint32(len(addr))
	}
	iov := unix.Iovec{Len: uint64(len(data))}
	if len(data) > 0 {
		iov.Base = &data[0]
	}
	msg.Iov, msg.Iovlen = &iov, 1
	if len(ctl) > 0 {
		msg.Control, msg.Controllen = &ctl[0], uint64(len(ctl))
	}
	r, _, e := unix.Syscall(unix.SYS_SENDMSG, uintptr(w.sock.fd), uintptr(unsafe.Pointer(&msg)), uintptr(flags))
	return int64(r), e
}

// buf returns (*b)[:n], growing it as needed.
func (w *worker) buf(b *[]byte, n int) []byte {
	if cap(*b) < n {
		*b = make([]byte, n)
	}
	return (*b)[:n]
}

// msghdrFields returns the fields of a struct msghdr read from the target:
// msg_name, msg_namelen, msg_iov, msg_iovlen, msg_control, msg_controllen.
func msghdrFields(hdr *[msghdrSize]byte) (name uint64, nameLen int, iov, iovLen, ctl, ctlLen uint64) {
	le := binary.LittleEndian
	return le.Uint64(hdr[0:]), int(int32(le.Uint32(hdr[8:]))), le.Uint64(hdr[16:]), le.Uint64(hdr[24:]), le.Uint64(hdr[32:]), le.Uint64(hdr[40:])
}

// sendmsg handles sendmsg(fd, msg, flags) on the msghdr at msgAddr. A
// socket taken already (sendmmsg) is reused.
func (w *worker) sendmsg(n *seccompNotif, msgAddr uint64, flags int) (int64, bool, unix.Errno) {
	var hdr [msghdrSize]byte
	if e := w.readMem(w.task.tid, msgAddr, hdr[:]); e != 0 {
		return 0, false, e
	}
	namePtr, nameLen, iovPtr, iovLen, ctlPtr, ctlLen := msghdrFields(&hdr)
	if namePtr == 0 {
		nameLen = 0
	}
	if nameLen < 0 {
		return 0, false, unix.EINVAL
	}
	nameLen = min(nameLen, maxAddr) // as __copy_msghdr
	if iovLen > maxIov {
		return 0, false, unix.EMSGSIZE
	}
	if ctlLen > maxControl {
		return 0, false, unix.ENOBUFS
	}
	// The address and the iovec array, then the data and the control
	// messages, each pair in one read (Linux reads the address first).
	addr := w.addr[:nameLen]
	w.in.reset()
	w.in.add(w, namePtr, addr)
	w.in.add(w, iovPtr, w.iovRaw[:iovLen*16])
	if e := w.in.flush(w); e != 0 {
		return 0, false, e
	}
	total, e := w.parseIovecs(iovLen, false)
	if e != 0 {
		return 0, false, e
	}
	data := w.buf(&w.data, int(total))
	ctl := w.buf(&w.ctl, int(ctlLen))
	w.in.scatter(w, data, w.iov)
	w.in.add(w, ctlPtr, ctl)
	if e := w.in.flush(w); e != 0 {
		return 0, false, e
	}
	if w.sock.fd < 0 {
		if e := w.takeSocket(n); e != 0 {
			return 0, false, e
		}
	}
	if !w.checkedSend(flags) {
		return 0, true, 0
	}
	if nameLen > 0 || w.sock.udp() {
		var e unix.Errno
		if addr, ctl, e = w.destHook(addr, ctl); e != 0 {
			return 0, false, e
		}
	}
	r, e := w.send(addr, data, ctl, flags)
	return r, false, e
}

// readIovecs reads the target's iovec array (iovLen <= maxIov entries) into
// w.iov and returns the total length (see parseIovecs).
func (w *worker) readIovecs(iovPtr, iovLen uint64, clamp bool) (uint64, unix.Errno) {
	if e := w.readMem(w.task.tid, iovPtr, w.iovRaw[:iovLen*16]); e != 0 {
		return 0, e
	}
	return w.parseIovecs(iovLen, clamp)
}

// parseIovecs sets w.iov from the iovec array in w.iovRaw (iovLen entries)
// and returns the total length. A total above maxData is EMSGSIZE, or with
// clamp (a receive, where no datagram is that large) cut to it.
func (w *worker) parseIovecs(iovLen uint64, clamp bool) (uint64, unix.Errno) {
	le := binary.LittleEndian
	total := uint64(0)
	w.iov = w.iov[:0]
	for i := uint64(0); i < iovLen; i++ {
		l := le.Uint64(w.iovRaw[16*i+8:])
		if l > maxData || total+l > maxData {
			if !clamp {
				return 0, unix.EMSGSIZE
			}
			l = maxData - total
		}
		total += l
		w.iov = append(w.iov, unix.RemoteIovec{Base: uintptr(le.Uint64(w.iovRaw[16*i:])), Len: int(l)})
	}
	return total, 0
}

// sendmmsg handles sendmmsg(fd, msgvec, vlen, flags) as a sequence of
// sendmsg calls, writing each msg_len back, as the kernel does.
func (w *worker) sendmmsg(n *seccompNotif) (int64, bool, unix.Errno) {
	vlen := min(uint32(n.Args[2]), maxIov)
	if e := w.takeSocket(n); e != 0 {
		return 0, false, e
	}
	if !w.checkedSend(int(int32(n.Args[3]))) {
		return 0, true, 0
	}
	sent, e := w.eachMsg(n.Args[1], vlen, func(_ uint32, at uint64) (int64, unix.Errno) {
		r, _, e := w.sendmsg(n, at, int(int32(n.Args[3])))
		return r, e
	}, nil)
	return sent, false, e
}

// eachMsg performs call for each struct mmsghdr of the vector at vec
// (vlen of them) and writes each msg_len back, as do_sendmmsg and
// do_recvmmsg do: an error after the first message ends the loop with the
// count, and so does done (if not nil) reporting true after a message.
func (w *worker) eachMsg(vec uint64, vlen uint32, call func(i uint32, at uint64) (int64, unix.Errno), done func() bool) (int64, unix.Errno) {
	count := int64(0)
	for i := uint32(0); i < vlen; i++ {
		at := vec + uint64(i)*mmsgSize
		r, e := call(i, at)
		if e == 0 {
			var l [4]byte
			binary.LittleEndian.PutUint32(l[:], uint32(r))
			e = w.writeMem(w.task.tid, at+msghdrSize, l[:])
		}
		if e != 0 {
			if count > 0 {
				break
			}
			return 0, e
		}
		count++
		if done != nil && done() {
			break
		}
	}
	return count, 0
}

// getname handles getpeername(fd, addr, addrlen) and getsockname: the
// supervisor asks its duplicate of the socket, runs the programs on the
// answer (they may rewrite it, not refuse it) and writes it to the target
// as move_addr_to_user does. The call only reports, so a racing thread can
// change nothing but where the answer goes.
func (w *worker) getname(n *seccompNotif) (int64, bool, unix.Errno) {
	var lb [4]byte
	if e := w.readMem(w.task.tid, n.Args[2], lb[:]); e != 0 {
		return 0, false, e
	}
	ulen := int32(binary.LittleEndian.Uint32(lb[:]))
	if ulen < 0 {
		return 0, false, unix.EINVAL
	}
	if e := w.takeSocket(n); e != 0 {
		return 0, false, e
	}
	if !w.sock.inet() {
		return 0, true, 0
	}
	nr, h := uintptr(unix.SYS_GETPEERNAME), hookGetpeername4
	if n.Nr == unix.SYS_GETSOCKNAME {
		nr, h = unix.SYS_GETSOCKNAME, hookGetsockname4
	}
	if w.sock.domain == unix.AF_INET6 {
		h++
	}
	l := uint32(maxAddr)
	if _, _, e := unix.Syscall(nr, uintptr(w.sock.fd), uintptr(unsafe.Pointer(&w.addr[0])), uintptr(unsafe.Pointer(&l))); e != 0 {
		return 0, false, e
	}
	addr := w.addr[:min(l, maxAddr)]
	need := 16
	if h.v6() {
		need = 24
	}
	if len(addr) >= need {
		if _, e := w.runHook(h, addr); e != 0 {
			return 0, false, e
		}
	}
	w.out.reset()
	w.putName(addr, n.Args[1], int(ulen), n.Args[2])
	return 0, false, w.out.flush(w)
}

// closeTaken closes what handling a notification opened.
func (w *worker) closeTaken() {
	w.closePidfd()
	if w.sock.fd >= 0 {
		unix.Close(w.sock.fd)
		w.sock.fd = -1
	}
}

// seccompAddfd is struct seccomp_notif_addfd.
type seccompAddfd struct {
	ID         uint64
	Flags      uint32
	SrcFD      uint32
	NewFD      uint32
	NewFDFlags uint32
}

// ioctlNotifAddfd is SECCOMP_IOCTL_NOTIF_ADDFD, _IOW('!', 3, struct
// seccomp_notif_addfd).
const ioctlNotifAddfd = 0x40182103

// sockCreate handles socket(domain, type, protocol) for IPv4 and IPv6 (the
// filter traps no other domain). Its arguments are registers, which cannot
// change: an allowed socket the programs did not modify is created by the
// kernel as asked (CONTINUE). The supervisor first creates the same socket
// itself, for the kernel's own checks and the protocol it resolves. If a
// program set bound_dev_if, mark or priority, that socket gets them and is
// installed in the target as the call's result (SECCOMP_IOCTL_NOTIF_ADDFD);
// it is then the supervisor's socket (its network namespace and owner). The
// modified path is for TCP, MPTCP, UDP and UDP-Lite only, which need no
// privilege; others are refused (EPERM).
// answered reports that the notification was answered already.
func (w *worker) sockCreate(n *seccompNotif) (val int64, cont, answered bool, errno unix.Errno) {
	domain, typ, proto := int(int32(n.Args[0])), int(int32(n.Args[1])), int(int32(n.Args[2]))
	fd, err := unix.Socket(domain, typ|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		if err == unix.EPERM || err == unix.EACCES {
			return 0, true, false, 0 // the target's own rights decide
		}
		return 0, false, false, err.(unix.Errno)
	}
	w.sock = sock{fd: fd, domain: domain, typ: typ & 0xf}
	w.sock.protocol, _ = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PROTOCOL)
	sk := w.sk
	*sk = linux.SockContext{Family: uint32(domain), Type: uint32(w.sock.typ), Protocol: uint32(w.sock.protocol)}
	before := *sk
	denied := false
	for _, a := range w.l.progs[hookSockCreate] {
		prev := *sk
		r, err := w.runSock(a, sk)
		if !w.verdict(a, r, err) {
			denied = true
		}
		if *sk != prev {
			a.rewritten.Add(1)
		}
	}
	if denied {
		return 0, false, false, unix.EPERM
	}
	if *sk == before && !w.sock.storage {
		return 0, true, false, 0
	}
	if !w.sock.hooked() && w.sock.protocol != unix.IPPROTO_MPTCP {
		// A raw or ping socket made with the supervisor's rights could
		// be one the target may not make.
		return 0, false, false, unix.EPERM
	}
	for _, o := range []struct {
		opt  int
		v, w uint32
	}{{unix.SO_BINDTOIFINDEX, sk.BoundDevIf, before.BoundDevIf}, {unix.SO_MARK, sk.Mark, before.Mark}, {unix.SO_PRIORITY, sk.Priority, before.Priority}} {
		if o.v != o.w {
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, o.opt, int(o.v)); err != nil {
				return 0, false, false, unix.EPERM
			}
		}
	}
	add := seccompAddfd{ID: n.ID, Flags: unix.SECCOMP_ADDFD_FLAG_SEND, SrcFD: uint32(fd)}
	if typ&unix.SOCK_CLOEXEC != 0 {
		add.NewFDFlags = unix.O_CLOEXEC
	}
	if err := ioctlPtr(w.l.listener, ioctlNotifAddfd, unsafe.Pointer(&add)); err != nil {
		return 0, false, false, unix.EPERM
	}
	return 0, false, true, 0
}

// errStopped is the error of a program not run because the link stopped.
var errStopped = errors.New("sockaddr: supervision stopped")

// runSockAddr runs a's program on c unless the link has stopped: after
// Wait or Close returns, the caller may close the programs, and a worker
// may still be answering a call of a task the command left behind.
func (w *worker) runSockAddr(a *attached, c *linux.SockAddrContext) (uint32, error) {
	w.l.runMu.RLock()
	defer w.l.runMu.RUnlock()
	if w.l.stopped {
		return 0, errStopped
	}
	return a.Program.RunSockAddr(c, w.sk, &w.run)
}

// runSock is runSockAddr for a cgroup_sock program on sk.
func (w *worker) runSock(a *attached, sk *linux.SockContext) (uint32, error) {
	w.l.runMu.RLock()
	defer w.l.runMu.RUnlock()
	if w.l.stopped {
		return 0, errStopped
	}
	return a.Program.RunSock(sk, &w.run)
}

// verdict counts a run of a and says whether it allows the call (bit 0 of
// r); a program that failed refuses it, and the failure is logged (one not
// run because the link stopped refuses it too).
func (w *worker) verdict(a *attached, r uint32, err error) bool {
	if err == errStopped {
		return false
	}
	a.runs.Add(1)
	if err != nil {
		w.l.logger.Error("sockaddr: program failed; call refused", "program", a.Program.Name(), "err", err)
		r = 0
	}
	if r&1 == 0 {
		a.denied.Add(1)
		return false
	}
	return true
}
