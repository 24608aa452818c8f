package daemon

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// deniedSyscalls are the system calls the verifier child never needs once
// it runs: it reads a request on stdin, computes, writes a verdict on
// stdout. Everything that reaches files, other processes or the network is
// refused with EPERM; the Go runtime's own calls (memory, threads, signals
// to itself, futexes) stay allowed, which a deny list keeps simple.
var deniedSyscalls = []uint32{
	unix.SYS_OPEN, unix.SYS_OPENAT, unix.SYS_OPENAT2, unix.SYS_CREAT, unix.SYS_OPEN_BY_HANDLE_AT,
	unix.SYS_EXECVE, unix.SYS_EXECVEAT, unix.SYS_PTRACE, unix.SYS_KILL, unix.SYS_PROCESS_VM_READV, unix.SYS_PROCESS_VM_WRITEV,
	unix.SYS_SOCKET, unix.SYS_SOCKETPAIR, unix.SYS_CONNECT, unix.SYS_BIND, unix.SYS_LISTEN, unix.SYS_ACCEPT, unix.SYS_ACCEPT4,
	unix.SYS_UNLINK, unix.SYS_UNLINKAT, unix.SYS_RENAME, unix.SYS_RENAMEAT, unix.SYS_RENAMEAT2, unix.SYS_MKDIR, unix.SYS_MKDIRAT,
	unix.SYS_RMDIR, unix.SYS_LINK, unix.SYS_LINKAT, unix.SYS_SYMLINK, unix.SYS_SYMLINKAT, unix.SYS_TRUNCATE,
	unix.SYS_CHMOD, unix.SYS_FCHMODAT, unix.SYS_CHOWN, unix.SYS_FCHOWNAT, unix.SYS_LCHOWN,
	unix.SYS_MOUNT, unix.SYS_UMOUNT2, unix.SYS_BPF, unix.SYS_SETUID, unix.SYS_SETGID,
}

// Classic BPF opcodes of a seccomp filter.
const (
	bpfLdAbsW = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	bpfJeqK   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	bpfJgeK   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	bpfRetK   = unix.BPF_RET | unix.BPF_K
)

// installSeccomp installs the filter on every thread of the process. The
// caller has set no_new_privs.
func installSeccomp() error {
	deny := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM))
	allow := uint32(unix.SECCOMP_RET_ALLOW)
	n := len(deniedSyscalls)
	// 0: arch; 1: wrong arch -> deny; 2: nr; 3: x32 numbers -> deny;
	// 4..4+n-1: each denied number -> deny; 4+n: allow; 5+n: deny.
	prog := []unix.SockFilter{
		{Code: bpfLdAbsW, K: 4}, // seccomp_data.arch
		{Code: bpfJeqK, K: unix.AUDIT_ARCH_X86_64, Jt: 1, Jf: 0},
		{Code: bpfRetK, K: deny},
		{Code: bpfLdAbsW, K: 0}, // seccomp_data.nr
		{Code: bpfJgeK, K: 0x40000000, Jt: uint8(n + 1), Jf: 0},
	}
	for i, nr := range deniedSyscalls {
		prog = append(prog, unix.SockFilter{Code: bpfJeqK, K: nr, Jt: uint8(n - i), Jf: 0})
	}
	prog = append(prog, unix.SockFilter{Code: bpfRetK, K: allow}, unix.SockFilter{Code: bpfRetK, K: deny})
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	if errno != 0 {
		return errno
	}
	return nil
}
