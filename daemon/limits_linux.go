package daemon

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// Environment variables that carry the limits to the child, which applies
// them to itself before it reads its input (Go cannot set a child's
// rlimits between fork and exec).
const (
	envCPU = "BPFHOST_VERIFIER_CPU_SECONDS"
	envMem = "BPFHOST_VERIFIER_MEMORY"
)

func childLimitsEnv(l ChildLimits) []string {
	cpu := uint64((l.CPU + 999_999_999) / 1_000_000_000)
	return []string{envCPU + "=" + strconv.FormatUint(cpu, 10), envMem + "=" + strconv.FormatUint(l.Memory, 10)}
}

// setChildAttrs makes the child die with the daemon's thread that started
// it, and puts it in its own process group.
func setChildAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

// limitSelf applies the limits the daemon passed: CPU time and address
// space, and no new privileges.
func limitSelf() error {
	if s := os.Getenv(envCPU); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%s: %w", envCPU, err)
		}
		if err := unix.Setrlimit(unix.RLIMIT_CPU, &unix.Rlimit{Cur: n, Max: n}); err != nil {
			return err
		}
	}
	if s := os.Getenv(envMem); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%s: %w", envMem, err)
		}
		// The Go heap stays below the address space limit, so that the
		// runtime reports running out as an error where it can.
		debug.SetMemoryLimit(int64(n / 2))
		if err := unix.Setrlimit(unix.RLIMIT_AS, &unix.Rlimit{Cur: n, Max: n}); err != nil {
			return err
		}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if err := installSeccomp(); err != nil {
		return fmt.Errorf("seccomp: %w", err)
	}
	return nil
}
