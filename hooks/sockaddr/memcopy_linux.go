package sockaddr

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// memCopies gathers copies between the worker's buffers and the target's
// memory so that they take one process_vm_writev (or process_vm_readv)
// call where UIO_MAXIOV allows: each call costs a task lookup, a ptrace
// access check and a page walk, more than the copying. The answer of a
// receive (data, source address, lengths, control messages) is written so,
// and a send's address, data and control are read so. The copies are made
// in the order they were added, as the kernel makes them; a short copy is
// EFAULT. The local buffers must stay put until flush (they are the
// worker's, not the stack's). A read may block (a page under userfaultfd),
// so flush keeps the scheduler's system call bookkeeping.
type memCopies struct {
	read bool // process_vm_readv; else process_vm_writev
	loc  []unix.Iovec
	rem  []unix.RemoteIovec
	err  unix.Errno
}

// add copies b to addr, or from addr into b (nothing if b is empty).
func (m *memCopies) add(w *worker, addr uint64, b []byte) {
	if len(b) == 0 {
		return
	}
	if len(m.rem)+1 > maxIov {
		m.flush(w)
	}
	m.loc = append(m.loc, unix.Iovec{Base: &b[0], Len: uint64(len(b))})
	m.rem = append(m.rem, unix.RemoteIovec{Base: uintptr(addr), Len: len(b)})
}

// scatter copies b over the target's buffers to (at most maxIov of them,
// holding at least len(b) bytes) as readv fills them, or gathers b from
// them as writev does.
func (m *memCopies) scatter(w *worker, b []byte, to []unix.RemoteIovec) {
	if len(b) == 0 {
		return
	}
	need := 0
	for left := len(b); left > 0 && need < len(to); need++ {
		left -= to[need].Len
	}
	if len(m.rem)+need > maxIov {
		m.flush(w)
	}
	m.loc = append(m.loc, unix.Iovec{Base: &b[0], Len: uint64(len(b))})
	left := len(b)
	for _, r := range to[:need] {
		r.Len = min(r.Len, left)
		left -= r.Len
		if r.Len > 0 {
			m.rem = append(m.rem, r)
		}
	}
}

// flush makes the copies added so far and returns the first error of
// any flush since reset.
func (m *memCopies) flush(w *worker) unix.Errno {
	if len(m.loc) > 0 && m.err == 0 {
		total := 0
		for _, r := range m.rem {
			total += r.Len
		}
		nr := uintptr(unix.SYS_PROCESS_VM_WRITEV)
		if m.read {
			nr = unix.SYS_PROCESS_VM_READV
		}
		n, _, e := unix.Syscall6(nr, uintptr(w.task.tid),
			uintptr(unsafe.Pointer(&m.loc[0])), uintptr(len(m.loc)),
			uintptr(unsafe.Pointer(&m.rem[0])), uintptr(len(m.rem)), 0)
		if e != 0 || int(n) != total {
			m.err = unix.EFAULT
		}
	}
	m.loc, m.rem = m.loc[:0], m.rem[:0]
	return m.err
}

// reset forgets the copies and the error of an earlier answer.
func (m *memCopies) reset() {
	m.loc, m.rem, m.err = m.loc[:0], m.rem[:0], 0
}
