package helpers

import (
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// Hooks that run programs on behalf of another process (the socket calls of
// a supervised command) describe that process and its socket on the Run, so
// that the task and socket helpers answer as Linux would in that process.

func init() {
	register(linux.FnGetSocketCookie, func(*impl) vm.Helper { return getSocketCookie })
	register(linux.FnGetNetnsCookie, func(*impl) vm.Helper { return getNetnsCookie })
	register(linux.FnBind, func(*impl) vm.Helper { return bindHelper })
}

// Task is the process a run acts for: what bpf_get_current_pid_tgid,
// bpf_get_current_uid_gid and bpf_get_current_comm report. Hooks may look
// the answers up lazily: most programs call none of them.
type Task interface {
	// PidTgid is the process ID (tgid) << 32 | the thread ID (pid).
	PidTgid() uint64
	// UidGid is the real group ID << 32 | the real user ID.
	UidGid() uint64
	// Comm is the task's name (at most 15 bytes are reported).
	Comm() string
}

// Socket is the socket a run's context describes.
type Socket interface {
	// Cookie is the socket's cookie (SO_COOKIE).
	Cookie() uint64
	// NetnsCookie is the cookie of the socket's network namespace.
	NetnsCookie() uint64
	// Bind binds the socket to addr (a struct sockaddr_in or sockaddr_in6)
	// and returns 0 or a negative errno, as bpf_bind does.
	Bind(addr []byte) int64
}

// taskOf returns the run's task, or nil for the host process.
func taskOf(rc *vm.RunContext) Task {
	if r, ok := rc.Value.(*Run); ok && r != nil {
		return r.Task
	}
	return nil
}

// socketOf returns the run's socket, or nil.
func socketOf(rc *vm.RunContext) Socket {
	if r, ok := rc.Value.(*Run); ok && r != nil {
		return r.Socket
	}
	return nil
}

// getSocketCookie is bpf_get_socket_cookie(ctx): the cookie of the
// context's socket; 0 when the run has none, as Linux returns for a
// context without a full socket.
func getSocketCookie(rc *vm.RunContext, _, _, _, _, _ uint64) (uint64, error) {
	if s := socketOf(rc); s != nil {
		return s.Cookie(), nil
	}
	return 0, nil
}

// getNetnsCookie is bpf_get_netns_cookie(ctx): the cookie of the socket's
// network namespace, or 0 when the run has no socket.
func getNetnsCookie(rc *vm.RunContext, _, _, _, _, _ uint64) (uint64, error) {
	if s := socketOf(rc); s != nil {
		return s.NetnsCookie(), nil
	}
	return 0, nil
}

// bindHelper is bpf_bind(ctx, addr, addr_len) from connect programs: binds
// the socket before it connects. Without a socket it is -EINVAL.
func bindHelper(rc *vm.RunContext, _, addr, size, _, _ uint64) (uint64, error) {
	size = uint64(uint32(size))
	if err := rc.CheckArg(addr, size, false); err != nil {
		return 0, argErr("bpf_bind", "addr", err)
	}
	s := socketOf(rc)
	if s == nil || size == 0 {
		return ret(eINVAL), nil
	}
	return ret(s.Bind(vm.Bytes(addr, int(size)))), nil
}
