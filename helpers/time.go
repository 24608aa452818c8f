package helpers

import (
	"math/rand/v2"
	"time"

	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// HZ is the tick rate bpf_jiffies64 counts in; a loader that resolves
// CONFIG_HZ for programs should use it.
const HZ = 1000

// initialJiffies is Linux's INITIAL_JIFFIES on 64-bit kernels: jiffies
// start 5 minutes before their 32-bit wrap to catch wrap bugs early.
const initialJiffies = 1<<32 - 300*HZ

// clock reads the monotonic clock cheaply: Go's monotonic reading (vDSO on
// Linux) plus the offset of the system's CLOCK_MONOTONIC, measured once,
// so values compare with what user space reads from clock_gettime.
var clock = struct {
	ref  time.Time
	mono int64 // CLOCK_MONOTONIC at ref
	boot int64 // CLOCK_BOOTTIME at ref
}{}

func init() {
	clock.ref = time.Now()
	clock.mono, clock.boot = systemClocks()
	register(linux.FnKtimeGetNs, func(*impl) vm.Helper { return ktimeGetNs })
	register(linux.FnKtimeGetCoarseNs, func(*impl) vm.Helper { return ktimeGetNs })
	register(linux.FnKtimeGetBootNs, func(*impl) vm.Helper { return ktimeGetBootNs })
	register(linux.FnKtimeGetTaiNs, func(*impl) vm.Helper { return ktimeGetTaiNs })
	register(linux.FnJiffies64, func(*impl) vm.Helper { return jiffies64 })
	register(linux.FnGetPrandomU32, func(*impl) vm.Helper { return getPrandomU32 })
	register(linux.FnGetSmpProcessorId, func(*impl) vm.Helper { return getSmpProcessorID })
	register(linux.FnGetNumaNodeId, func(*impl) vm.Helper { return getNumaNodeID })
}

func monoNow() uint64 { return uint64(clock.mono + int64(time.Since(clock.ref))) }

// ktimeGetNs is bpf_ktime_get_ns and bpf_ktime_get_coarse_ns:
// CLOCK_MONOTONIC in nanoseconds.
func ktimeGetNs(*vm.RunContext, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
	return monoNow(), nil
}

// ktimeGetBootNs is bpf_ktime_get_boot_ns: CLOCK_BOOTTIME. It advances with
// the monotonic clock from the boot time measured at start, so time spent
// suspended after the process started is not counted.
func ktimeGetBootNs(*vm.RunContext, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
	return uint64(clock.boot + int64(time.Since(clock.ref))), nil
}

// ktimeGetTaiNs is bpf_ktime_get_tai_ns: CLOCK_TAI.
func ktimeGetTaiNs(*vm.RunContext, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
	return uint64(taiNow()), nil
}

// jiffies64 is bpf_jiffies64: HZ ticks since boot, from INITIAL_JIFFIES.
func jiffies64(*vm.RunContext, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
	boot := uint64(clock.boot + int64(time.Since(clock.ref)))
	return initialJiffies + boot/(1e9/HZ), nil
}

// getPrandomU32 is bpf_get_prandom_u32.
func getPrandomU32(*vm.RunContext, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
	return uint64(rand.Uint32()), nil
}

// getSmpProcessorID is bpf_get_smp_processor_id: the run's slot.
func getSmpProcessorID(rc *vm.RunContext, _, _, _, _, _ uint64) (uint64, error) {
	return uint64(uint32(rc.Slot)), nil
}

// getNumaNodeID is bpf_get_numa_node_id: slots have no NUMA placement.
func getNumaNodeID(*vm.RunContext, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
	return 0, nil
}

// taiOffset is TAI - UTC since 2017, for hosts that do not keep CLOCK_TAI.
const taiOffset = 37 * int64(time.Second)
