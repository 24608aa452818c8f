package sockaddr

import (
	"encoding/binary"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// recvPoll is how long a supervised blocking receive waits in poll before
// it checks that the target still waits for it and has no signal pending.
const recvPoll = 10 * time.Millisecond

// errRestartSys is the kernel's ERESTARTSYS. Answered to a target with a
// signal pending, it makes the kernel's signal delivery do what it does for
// an interrupted blocking receive without SO_RCVTIMEO: restart the call
// after a handler with SA_RESTART (or a stop), otherwise return EINTR.
// With SO_RCVTIMEO set, sock_intr_errno makes it EINTR in any case.
const errRestartSys = unix.Errno(512)

// signalPending reports whether the target thread has a signal pending that
// it does not block and that the kernel has marked it to handle: one sent
// to the thread, or one sent to the process when the thread leads it
// (complete_signal picks the leader when it does not block the signal).
// A process signal pending for another thread is not seen: that thread
// may not be the one the kernel picked. Answering ERESTARTSYS to a thread
// the kernel marked is safe even if another thread takes a process signal
// first: with no signal left, the kernel restarts the call.
func (w *worker) signalPending() bool {
	b, err := readProc(w.task.tid, "status", w.task.buf[:])
	if err != nil {
		return false
	}
	hex := func(key string) uint64 {
		v, _ := strconv.ParseUint(string(procField(b, key)), 16, 64)
		return v
	}
	pnd, blk := hex("SigPnd"), hex("SigBlk")
	if int(leadingUint(procField(b, "Tgid"))) == w.task.tid {
		pnd |= hex("ShdPnd")
	}
	return pnd&^blk != 0
}

// recvTarget reports whether the taken socket's receives run the recvmsg
// programs: UDP or UDP-Lite over IPv4 or IPv6, and not the error queue (udp_recvmsg
// returns ip_recv_error before it looks at the source).
func (w *worker) recvTarget(flags int) bool {
	return w.sock.inet() && w.sock.udp() && flags&unix.MSG_ERRQUEUE == 0
}

// recvWait performs recv (a receive on the duplicate with the flags it is
// given) as the target's receive with flags would behave. A receive that
// may block is done as non-blocking receives between polls, so that the
// worker notices a target that died (its notification is no longer valid)
// and keeps SO_RCVTIMEO (EAGAIN after it). The first receive does not
// wait in any case: whether the call may block, and its timeout, are read
// only if no datagram is waiting.
func (w *worker) recvWait(id uint64, flags int, recv func(flags int) (int64, unix.Errno)) (int64, unix.Errno) {
	start := time.Now()
	r, e := recv(flags | unix.MSG_DONTWAIT)
	if e != unix.EAGAIN || flags&unix.MSG_DONTWAIT != 0 {
		return r, e
	}
	fl, _, e := unix.RawSyscall(unix.SYS_FCNTL, uintptr(w.sock.fd), unix.F_GETFL, 0)
	if e != 0 {
		return 0, e
	}
	if fl&unix.O_NONBLOCK != 0 {
		return 0, unix.EAGAIN
	}
	var deadline time.Time
	if tv, err := unix.GetsockoptTimeval(w.sock.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO); err == nil && (tv.Sec != 0 || tv.Usec != 0) {
		deadline = start.Add(time.Duration(tv.Sec)*time.Second + time.Duration(tv.Usec)*time.Microsecond)
	}
	for {
		wait := recvPoll
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return 0, unix.EAGAIN
			}
			wait = min(wait, left)
		}
		pfd := []unix.PollFd{{Fd: int32(w.sock.fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, int(max(wait/time.Millisecond, 1))); err != nil && err != unix.EINTR {
			return 0, err.(unix.Errno)
		}
		if !w.l.valid(id) {
			return 0, unix.EINTR // the target is gone; nobody reads the answer
		}
		if w.signalPending() {
			if !deadline.IsZero() {
				return 0, unix.EINTR // sock_intr_errno: no restart with a timeout
			}
			return 0, errRestartSys
		}
		if r, e := recv(flags | unix.MSG_DONTWAIT); e != unix.EAGAIN {
			return r, e
		}
	}
}

// recvHook runs the recvmsg programs on the source address in addr (the
// kernel's answer, alen bytes): recvmsg4 for IPv4 sockets, recvmsg6 for
// IPv6 ones (also for an IPv4-mapped source, as udpv6_recvmsg does).
func (w *worker) recvHook(addr []byte) unix.Errno {
	switch {
	case w.sock.domain == unix.AF_INET && len(addr) >= 16:
		_, e := w.runHook(hookRecvmsg4, addr)
		return e
	case w.sock.domain == unix.AF_INET6 && len(addr) >= 24:
		_, e := w.runHook(hookRecvmsg6, addr)
		return e
	}
	return 0
}

// putName adds to w.out the writes of a (rewritten) source address as
// move_addr_to_user makes them: at most ulen bytes at uaddr, and the full
// length at ulenAddr.
func (w *worker) putName(addr []byte, uaddr uint64, ulen int, ulenAddr uint64) {
	w.out.add(w, uaddr, addr[:max(min(ulen, len(addr)), 0)])
	binary.LittleEndian.PutUint32(w.nameLen[:], uint32(len(addr)))
	w.out.add(w, ulenAddr, w.nameLen[:])
}

// recvfrom handles recvfrom(fd, buf, len, flags, addr, addrlen) with an
// address buffer (the filter lets the others through): the supervisor
// receives on its duplicate into a buffer of the caller's size, runs the
// programs on the source and writes data, address and length back.
func (w *worker) recvfrom(n *seccompNotif) (int64, bool, unix.Errno) {
	var lb [4]byte
	if e := w.readMem(w.task.tid, n.Args[5], lb[:]); e != 0 {
		return 0, false, e
	}
	ulen := int(int32(binary.LittleEndian.Uint32(lb[:])))
	if ulen < 0 {
		return 0, false, unix.EINVAL
	}
	if e := w.takeSocket(n); e != 0 {
		return 0, false, e
	}
	flags := int(int32(n.Args[3]))
	if !w.recvTarget(flags) {
		return 0, true, 0
	}
	data := w.buf(&w.data, int(min(n.Args[2], maxData)))
	var dp uintptr
	if len(data) > 0 {
		dp = uintptr(unsafe.Pointer(&data[0]))
	}
	alen := uint32(maxAddr)
	r, e := w.recvWait(n.ID, flags, func(flags int) (int64, unix.Errno) {
		alen = maxAddr
		r, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(w.sock.fd), dp, uintptr(len(data)), uintptr(flags),
			uintptr(unsafe.Pointer(&w.addr[0])), uintptr(unsafe.Pointer(&alen)))
		return int64(r), e
	})
	if e != 0 {
		return 0, false, e
	}
	addr := w.addr[:min(alen, maxAddr)]
	if e := w.recvHook(addr); e != 0 {
		return 0, false, e
	}
	w.out.reset()
	w.out.add(w, n.Args[1], data[:min(int(r), len(data))]) // r exceeds len(data) with MSG_TRUNC
	w.putName(addr, n.Args[4], ulen, n.Args[5])
	if e := w.out.flush(w); e != 0 {
		return 0, false, e
	}
	return r, false, 0
}

// recvmsg handles recvmsg(fd, msg, flags) on the msghdr at msgAddr: the
// supervisor receives into buffers of the caller's sizes (data at most
// maxData, control at most maxControl), runs the programs on the source
// and writes the data (scattered over the caller's iovecs), address,
// control messages, lengths and msg_flags back. UDP carries no file
// descriptors, so the control messages are plain data. A socket taken
// already (recvmmsg) is reused.
func (w *worker) recvmsg(n *seccompNotif, msgAddr uint64, flags int) (int64, bool, unix.Errno) {
	var hdr [msghdrSize]byte
	if e := w.readMem(w.task.tid, msgAddr, hdr[:]); e != 0 {
		return 0, false, e
	}
	namePtr, nameLen, iovPtr, iovLen, ctlPtr, ctlLen := msghdrFields(&hdr)
	if nameLen < 0 {
		return 0, false, unix.EINVAL
	}
	if iovLen > maxIov {
		return 0, false, unix.EMSGSIZE
	}
	ctlLen = min(ctlLen, maxControl)
	total, e := w.readIovecs(iovPtr, iovLen, true)
	if e != 0 {
		return 0, false, e
	}
	if w.sock.fd < 0 {
		if e := w.takeSocket(n); e != 0 {
			return 0, false, e
		}
	}
	if !w.recvTarget(flags) {
		return 0, true, 0
	}
	data := w.buf(&w.data, int(total))
	ctl := w.buf(&w.ctl, int(ctlLen))
	var msg unix.Msghdr
	iov := unix.Iovec{Len: total}
	if total > 0 {
		iov.Base = &data[0]
	}
	r, e := w.recvWait(n.ID, flags, func(flags int) (int64, unix.Errno) {
		msg = unix.Msghdr{Iov: &iov, Iovlen: 1}
		if namePtr != 0 {
			msg.Name, msg.Namelen = &w.addr[0], maxAddr
		}
		if ctlLen > 0 {
			msg.Control, msg.Controllen = &ctl[0], ctlLen
		}
		r, _, e := unix.Syscall(unix.SYS_RECVMSG, uintptr(w.sock.fd), uintptr(unsafe.Pointer(&msg)), uintptr(flags))
		return int64(r), e
	})
	if e != 0 {
		return 0, false, e
	}
	var addr []byte
	if namePtr != 0 {
		addr = w.addr[:min(msg.Namelen, maxAddr)]
		if e := w.recvHook(addr); e != 0 {
			return 0, false, e
		}
	}
	w.out.reset()
	w.out.scatter(w, data[:min(uint64(r), total)], w.iov)
	if namePtr != 0 {
		w.putName(addr, namePtr, nameLen, msgAddr+8)
	}
	w.out.add(w, ctlPtr, ctl[:msg.Controllen])
	binary.LittleEndian.PutUint64(w.msgTail[:], msg.Controllen)
	binary.LittleEndian.PutUint32(w.msgTail[8:], uint32(msg.Flags))
	w.out.add(w, msgAddr+40, w.msgTail[:])
	if e := w.out.flush(w); e != 0 {
		return 0, false, e
	}
	return r, false, 0
}

// recvmmsg handles recvmmsg(fd, msgvec, vlen, flags, timeout) as a
// sequence of recvmsg calls as do_recvmmsg does: msg_len written back,
// MSG_WAITFORONE making the receives after the first non-blocking, the
// timeout checked after each datagram and what is left of it written
// back; an error after the first datagram ends the call with the count.
func (w *worker) recvmmsg(n *seccompNotif) (int64, bool, unix.Errno) {
	vlen := min(uint32(n.Args[2]), maxIov)
	flags := int(int32(n.Args[3]))
	var ts [16]byte
	var end time.Time
	if n.Args[4] != 0 {
		if e := w.readMem(w.task.tid, n.Args[4], ts[:]); e != 0 {
			return 0, false, e
		}
		sec, nsec := int64(binary.LittleEndian.Uint64(ts[:])), int64(binary.LittleEndian.Uint64(ts[8:]))
		if sec < 0 || nsec < 0 || nsec >= 1e9 {
			return 0, false, unix.EINVAL
		}
		end = time.Now().Add(time.Duration(sec)*time.Second + time.Duration(nsec))
	}
	if e := w.takeSocket(n); e != 0 {
		return 0, false, e
	}
	if !w.recvTarget(flags) {
		return 0, true, 0
	}
	got, e := w.eachMsg(n.Args[1], vlen, func(i uint32, at uint64) (int64, unix.Errno) {
		f := flags &^ unix.MSG_WAITFORONE
		if i > 0 && flags&unix.MSG_WAITFORONE != 0 {
			f |= unix.MSG_DONTWAIT
		}
		r, _, e := w.recvmsg(n, at, f)
		return r, e
	}, func() bool { return !end.IsZero() && !time.Now().Before(end) })
	if e != 0 {
		return 0, false, e
	}
	if !end.IsZero() {
		left := max(time.Until(end), 0)
		binary.LittleEndian.PutUint64(ts[:], uint64(left/time.Second))
		binary.LittleEndian.PutUint64(ts[8:], uint64(left%time.Second))
		if e := w.writeMem(w.task.tid, n.Args[4], ts[:]); e != 0 && got == 0 {
			return 0, false, e
		}
	}
	return got, false, 0
}
