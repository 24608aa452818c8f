package helpers

import (
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

func TestCurrentTask(t *testing.T) {
	e := newEnv(t, vm.Checked)
	if r := uint64(e.mustCall(linux.FnGetCurrentPidTgid)); r>>32 != uint64(os.Getpid()) || uint32(r) == 0 {
		t.Errorf("pid_tgid = %#x, want tgid %d", r, os.Getpid())
	}
	ug := uint64(e.mustCall(linux.FnGetCurrentUidGid))
	if runtime.GOOS != "windows" && (uint32(ug) != uint32(os.Getuid()) || ug>>32 != uint64(os.Getgid())) {
		t.Errorf("uid_gid = %#x, want %d/%d", ug, os.Getuid(), os.Getgid())
	}
	b, p := e.mem("comm", 16, true)
	for i := range b {
		b[i] = 0xff
	}
	if r := e.mustCall(linux.FnGetCurrentComm, p, 16); r != 0 {
		t.Fatalf("get_current_comm = %d", r)
	}
	name := strings.TrimRight(string(b), "\x00")
	if name == "" || len(name) > 15 || b[15] != 0 || strings.ContainsRune(name, 0xff) {
		t.Errorf("comm %q", b)
	}
	if !strings.HasPrefix(executableName(), name) && runtime.GOOS != "linux" {
		t.Errorf("comm %q is not the executable %q", name, executableName())
	}
	// A smaller buffer gets a truncated, NUL-terminated name.
	if e.mustCall(linux.FnGetCurrentComm, p, 3); b[2] != 0 || string(b[:2]) != name[:min(2, len(name))] {
		t.Errorf("comm in 3 bytes: %q", b[:3])
	}
}

func TestClocks(t *testing.T) {
	e := newEnv(t, vm.Checked)
	// The upper bound is the time the test measured around the two calls
	// on Go's monotonic clock, however long a busy machine made it.
	t0 := time.Now()
	a := e.mustCall(linux.FnKtimeGetNs)
	time.Sleep(2 * time.Millisecond)
	b := e.mustCall(linux.FnKtimeGetNs)
	el := time.Since(t0)
	if b-a < int64(2*time.Millisecond) || b-a > int64(el+time.Millisecond) {
		t.Errorf("ktime advanced %d ns over a 2ms sleep, in %v", b-a, el)
	}
	if boot := e.mustCall(linux.FnKtimeGetBootNs); boot < b {
		t.Errorf("boot time %d before monotonic %d", boot, b)
	}
	utc := time.Now().UnixNano()
	if tai := e.mustCall(linux.FnKtimeGetTaiNs); tai < utc {
		t.Errorf("TAI %d before UTC", tai)
	}
	j1 := e.mustCall(linux.FnJiffies64)
	time.Sleep(3 * time.Millisecond)
	if j2 := e.mustCall(linux.FnJiffies64); j2 <= j1 || uint64(j1) < initialJiffies {
		t.Errorf("jiffies %d then %d", j1, j2)
	}
	if runtime.GOOS == "linux" {
		k := e.mustCall(linux.FnKtimeGetNs)
		mono, _ := systemClocks()
		if d := mono - k; d < -int64(time.Millisecond) || d > int64(time.Second) {
			t.Errorf("ktime differs from CLOCK_MONOTONIC by %d ns", d)
		}
	}
	seen := map[int64]bool{}
	for range 16 {
		seen[e.mustCall(linux.FnGetPrandomU32)] = true
	}
	if len(seen) < 8 {
		t.Errorf("prandom gave %d distinct values of 16", len(seen))
	}
	e.rc.Slot = 5
	if r := e.mustCall(linux.FnGetSmpProcessorId); r != 5 {
		t.Errorf("smp_processor_id = %d", r)
	}
	if r := e.mustCall(linux.FnGetNumaNodeId); r != 0 {
		t.Errorf("numa node = %d", r)
	}
}
