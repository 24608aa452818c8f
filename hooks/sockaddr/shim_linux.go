package sockaddr

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// shimEnv marks a re-executed binary as the shim; its value lists the
// trapped operations ("connect,bind,send"). The control socket is fd 3.
const shimEnv = "BPFHOST_SOCKADDR_SHIM"

// shimCtlFD is the shim's end of the control socket (exec.Cmd.ExtraFiles[0]).
const shimCtlFD = 3

// Exit statuses of a shim that could not exec the command, as shells use.
const (
	exitCannotRun = 126
	exitNotFound  = 127
)

func init() {
	if spec, ok := os.LookupEnv(shimEnv); ok {
		shimMain(spec)
	}
}

// shimMain installs the filter and execs the command os.Args[1] with the
// argument vector os.Args[2:]. It does not return.
func shimMain(spec string) {
	// The filter is per thread: install it on the thread that execs.
	runtime.LockOSThread()
	os.Unsetenv(shimEnv)
	fail := func(code int, format string, args ...any) {
		fmt.Fprintf(os.Stderr, "bpfhost exec: "+format+"\n", args...)
		os.Exit(code)
	}
	if len(os.Args) < 3 {
		fail(exitCannotRun, "shim: no command")
	}
	prog, err := filterFor(strings.Split(spec, ","))
	if err != nil {
		fail(exitCannotRun, "shim: %v", err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fail(exitCannotRun, "no_new_privs: %v", err)
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	flags := uintptr(unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
	fd, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(&fprog)))
	if errno == unix.EINVAL { // before Linux 5.19
		fd, _, errno = unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, uintptr(unsafe.Pointer(&fprog)))
	}
	runtime.KeepAlive(prog)
	if errno != 0 {
		fail(exitCannotRun, "seccomp filter: %v", errno)
	}
	// The supervisor takes the listener with pidfd_getfd. write and read
	// are not trapped (sendmsg would be, and nobody listens yet).
	msg := []byte(strconv.Itoa(int(fd)) + "\n")
	if _, err := unix.Write(shimCtlFD, msg); err != nil {
		fail(exitCannotRun, "shim: hand over the listener: %v", err)
	}
	var ack [1]byte
	if n, err := unix.Read(shimCtlFD, ack[:]); n != 1 || err != nil {
		fail(exitCannotRun, "shim: supervisor did not take the listener (%v)", err)
	}
	unix.Close(int(fd))
	unix.Close(shimCtlFD)
	err = unix.Exec(os.Args[1], os.Args[2:], os.Environ())
	code := exitCannotRun
	if err == unix.ENOENT {
		code = exitNotFound
	}
	fail(code, "%s: %v", os.Args[1], err)
}
