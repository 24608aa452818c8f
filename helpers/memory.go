package helpers

import (
	"unsafe"

	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// The probe_read family reads memory a program names by a plain number
// (kernel or user addresses in Linux). A host runtime cannot read arbitrary
// addresses without risking a crash, so these helpers read only memory the
// run owns: the live stack frames, rc.Regions, the packet buffer and the
// context of the Run. Anything else reads as a fault (-EFAULT, destination
// zeroed), in both memory modes, as Linux's _nofault copies do for an
// unmapped address.

// span returns how many bytes from addr on lie in one area the run owns,
// 0 if addr lies in none.
func span(rc *vm.RunContext, addr uint64) uint64 {
	a := uintptr(addr)
	if uint64(a) != addr {
		return 0
	}
	if n := regionSpan(rc.Stack().Region(rc.Depth), a); n > 0 {
		return n
	}
	// Regions may overlap (a context's writable fields lie in the whole
	// struct, read-only): the longest run of readable bytes counts.
	var best uint64
	for _, r := range rc.Regions {
		best = max(best, regionSpan(r, a))
	}
	if best > 0 {
		return best
	}
	if run, ok := rc.Value.(*Run); ok && run != nil {
		if n := regionSpan(vm.RegionOf("packet", run.Packet, false), a); n > 0 {
			return n
		}
		if run.Ctx != nil {
			if n := regionSpan(vm.Region{Start: uintptr(run.Ctx), Size: ctxSize(run.Program)}, a); n > 0 {
				return n
			}
		}
	}
	return 0
}

func regionSpan(r vm.Region, a uintptr) uint64 {
	if a >= r.Start && a-r.Start < r.Size {
		return uint64(r.Size - (a - r.Start))
	}
	return 0
}

// ctxSize is the size of the host context struct of a program type.
func ctxSize(t linux.ProgramType) uintptr {
	switch {
	case t == linux.XDP:
		return unsafe.Sizeof(linux.XDPContext{})
	case isSKB(t):
		return unsafe.Sizeof(linux.SKBContext{})
	}
	return 0
}

// isSKB reports whether the program type's context is struct __sk_buff.
func isSKB(t linux.ProgramType) bool {
	switch t {
	case linux.SocketFilter, linux.SchedCLS, linux.SchedACT, linux.CGroupSKB,
		linux.LWTIn, linux.LWTOut, linux.LWTXmit, linux.LWTSeg6Local, linux.SkSKB:
		return true
	}
	return false
}

// readOwned copies len(dst) bytes at addr into dst if the run owns them all.
func readOwned(rc *vm.RunContext, dst []byte, addr uint64) bool {
	if len(dst) == 0 {
		return true
	}
	if span(rc, addr) < uint64(len(dst)) {
		return false
	}
	copy(dst, vm.Bytes(addr, len(dst)))
	return true
}

// readStr copies the NUL-terminated string at addr into dst as the kernel's
// strncpy_from_kernel_nofault does: at most len(dst)-1 bytes and a NUL. It
// returns the bytes written including the NUL, 0 for an empty dst, or
// -EFAULT if the string runs out of owned memory first.
func readStr(rc *vm.RunContext, dst []byte, addr uint64) int64 {
	if len(dst) == 0 {
		return 0
	}
	n := span(rc, addr)
	if n == 0 {
		return eFAULT
	}
	src := vm.Bytes(addr, int(min(n, uint64(len(dst)))))
	for i, c := range src {
		dst[i] = c
		if c == 0 {
			// The verifier marks all of dst written: no stale bytes after
			// the string.
			clear(dst[i+1:])
			return int64(i + 1)
		}
	}
	if len(src) < len(dst) { // ran into the end of owned memory
		return eFAULT
	}
	dst[len(dst)-1] = 0
	return int64(len(dst))
}

// cString returns the NUL-terminated string at addr (without the NUL),
// reading at most limit bytes; ok is false if no NUL lies within owned
// memory and the limit. In trusted runs, where the verifier proved the
// string terminated (ARG_PTR_TO_CONST_STR), memory the run does not list
// is scanned up to the limit.
func cString(rc *vm.RunContext, addr uint64, limit int) ([]byte, bool) {
	n := span(rc, addr)
	if n == 0 {
		if rc.Mode == vm.Checked || addr == 0 {
			return nil, false
		}
		n = uint64(limit)
	}
	b := vm.Bytes(addr, int(min(n, uint64(limit))))
	for i, c := range b {
		if c == 0 {
			return b[:i], true
		}
	}
	return nil, false
}

func init() {
	register(linux.FnProbeRead, probeRead)
	register(linux.FnProbeReadKernel, probeRead)
	register(linux.FnProbeReadUser, probeRead)
	register(linux.FnProbeReadStr, probeReadStr)
	register(linux.FnProbeReadKernelStr, probeReadStr)
	register(linux.FnProbeReadUserStr, probeReadStr)
}

// probeRead is bpf_probe_read(_kernel, _user)(dst, size, unsafe_ptr).
func probeRead(*impl) vm.Helper {
	return func(rc *vm.RunContext, dst, size, src, _, _ uint64) (uint64, error) {
		size = uint64(uint32(size))
		if err := rc.CheckArg(dst, size, true); err != nil {
			return 0, argErr("bpf_probe_read", "dst", err)
		}
		d := vm.Bytes(dst, int(size))
		if !readOwned(rc, d, src) {
			clear(d)
			return ret(eFAULT), nil
		}
		return 0, nil
	}
}

// probeReadStr is bpf_probe_read(_kernel, _user)_str(dst, size, unsafe_ptr):
// the string's length including the NUL, or -EFAULT with dst zeroed.
func probeReadStr(*impl) vm.Helper {
	return func(rc *vm.RunContext, dst, size, src, _, _ uint64) (uint64, error) {
		size = uint64(uint32(size))
		if err := rc.CheckArg(dst, size, true); err != nil {
			return 0, argErr("bpf_probe_read_str", "dst", err)
		}
		d := vm.Bytes(dst, int(size))
		n := readStr(rc, d, src)
		if n < 0 {
			clear(d)
		}
		return ret(n), nil
	}
}
