package helpers

import (
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// The "current task" of a run is the host process running it.

func init() {
	register(linux.FnGetCurrentPidTgid, func(*impl) vm.Helper { return getCurrentPidTgid })
	register(linux.FnGetCurrentUidGid, func(*impl) vm.Helper { return getCurrentUidGid })
	register(linux.FnGetCurrentComm, func(*impl) vm.Helper { return getCurrentComm })
}

// taskCommLen is TASK_COMM_LEN: 15 bytes and a NUL.
const taskCommLen = 16

var (
	pid  = uint64(os.Getpid())
	comm = sync.OnceValue(func() string {
		name := processName()
		if len(name) > taskCommLen-1 {
			name = name[:taskCommLen-1]
		}
		return name
	})
)

// executableName is the fallback comm: the executable's base name without
// a Windows extension.
func executableName() string {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	base := filepath.Base(exe)
	if ext := filepath.Ext(base); strings.EqualFold(ext, ".exe") {
		base = base[:len(base)-len(ext)]
	}
	return base
}

// getCurrentPidTgid is bpf_get_current_pid_tgid: tgid (the process ID) in
// the upper 32 bits, the thread ID in the lower.
func getCurrentPidTgid(rc *vm.RunContext, _, _, _, _, _ uint64) (uint64, error) {
	if t := taskOf(rc); t != nil {
		return t.PidTgid(), nil
	}
	return pid<<32 | uint64(uint32(threadID())), nil
}

// getCurrentUidGid is bpf_get_current_uid_gid: gid << 32 | uid.
func getCurrentUidGid(rc *vm.RunContext, _, _, _, _, _ uint64) (uint64, error) {
	if t := taskOf(rc); t != nil {
		return t.UidGid(), nil
	}
	uid, gid := os.Getuid(), os.Getgid()
	if uid < 0 { // Windows
		uid, gid = 0, 0
	}
	return uint64(uint32(gid))<<32 | uint64(uint32(uid)), nil
}

// getCurrentComm is bpf_get_current_comm(buf, size): the process name,
// truncated to fit with its NUL and zero-padded.
func getCurrentComm(rc *vm.RunContext, buf, size, _, _, _ uint64) (uint64, error) {
	size = uint64(uint32(size))
	if err := rc.CheckArg(buf, size, true); err != nil {
		return 0, argErr("bpf_get_current_comm", "buf", err)
	}
	if size == 0 {
		return ret(eINVAL), nil
	}
	b := vm.Bytes(buf, int(size))
	name := comm()
	if t := taskOf(rc); t != nil {
		name = t.Comm()
		if len(name) > taskCommLen-1 {
			name = name[:taskCommLen-1]
		}
	}
	n := copy(b[:len(b)-1], name)
	clear(b[n:])
	return 0, nil
}
