package helpers

import (
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// A helper call counts as one instruction; the work a helper does beyond
// that is charged to the run's instruction budget with vm.RunContext.Charge,
// so that no helper makes a run cost more than its budget allows:
//
//   - bpf_loop: one unit per iteration;
//   - bpf_for_each_map_elem: one unit per element and per empty hash bucket
//     visited;
//   - helpers that copy, compare, format or checksum memory: one unit per
//     bytesPerUnit bytes (sizeArgs), charged after a call that succeeded,
//     since each call's size is bounded by the memory it names.

// bytesPerUnit is how many bytes of copying or hashing count as one
// instruction: about what one instruction costs in the JIT.
const bytesPerUnit = 64

// chargeBytes charges n bytes of work for a call that returned r0, if it
// succeeded (r0 >= 0 as a signed value), and passes r0 on.
func chargeBytes(rc *vm.RunContext, r0, n uint64) (uint64, error) {
	if int64(r0) < 0 || n < bytesPerUnit {
		return r0, nil
	}
	return r0, rc.Charge(n / bytesPerUnit)
}

// sizeArgs gives, for helpers whose work grows with a size argument, the
// number of bytes a call works on, from its arguments (sizes are u32 in
// Linux's prototypes).
var sizeArgs = map[platform.HelperID]func(r1, r2, r3, r4, r5 uint64) uint64{
	linux.FnProbeRead:          arg2,
	linux.FnProbeReadKernel:    arg2,
	linux.FnProbeReadUser:      arg2,
	linux.FnProbeReadStr:       arg2,
	linux.FnProbeReadKernelStr: arg2,
	linux.FnProbeReadUserStr:   arg2,
	linux.FnStrncmp:            arg2,
	linux.FnTracePrintk:        arg2,
	linux.FnTraceVprintk:       func(_, r2, _, r4, _ uint64) uint64 { return uint64(uint32(r2)) + uint64(uint32(r4)) },
	linux.FnRingbufOutput:      func(_, _, r3, _, _ uint64) uint64 { return uint64(uint32(r3)) },
	linux.FnPerfEventOutput:    func(_, _, _, _, r5 uint64) uint64 { return uint64(uint32(r5)) },
	linux.FnCsumDiff:           func(_, r2, _, r4, _ uint64) uint64 { return uint64(uint32(r2)) + uint64(uint32(r4)) },
	linux.FnSnprintf:           func(_, r2, _, _, r5 uint64) uint64 { return uint64(uint32(r2)) + uint64(uint32(r5)) },
	linux.FnSkbLoadBytes:       arg4,
	linux.FnSkbStoreBytes:      arg4,
	linux.FnXdpLoadBytes:       arg4,
	linux.FnXdpStoreBytes:      arg4,
}

func arg2(_, r2, _, _, _ uint64) uint64 { return uint64(uint32(r2)) }
func arg4(_, _, _, r4, _ uint64) uint64 { return uint64(uint32(r4)) }

// metered wraps a helper whose work grows with a size argument so that a
// successful call charges it.
func metered(id platform.HelperID, h vm.Helper) vm.Helper {
	size, ok := sizeArgs[id]
	if !ok {
		return h
	}
	return func(rc *vm.RunContext, r1, r2, r3, r4, r5 uint64) (uint64, error) {
		r0, err := h(rc, r1, r2, r3, r4, r5)
		if err != nil {
			return r0, err
		}
		return chargeBytes(rc, r0, size(r1, r2, r3, r4, r5))
	}
}
