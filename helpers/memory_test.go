package helpers

import (
	"bytes"
	"testing"

	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

func TestProbeRead(t *testing.T) {
	for _, mode := range []vm.Mode{vm.Checked, vm.Trusted} {
		t.Run(mode.String(), func(t *testing.T) {
			e := newEnv(t, mode)
			src, sp := e.mem("src", 16, false)
			copy(src, "hello\x00world.....")
			dst, dp := e.mem("dst", 16, true)
			stack := e.rc.Stack().FramePointer(0) - 8
			copy(vm.Bytes(stack, 8), "stackstr")
			pkt := []byte("packet\x00")
			e.rc.Value = &Run{Program: linux.XDP, Packet: pkt}

			tests := []struct {
				name string
				id   int32
				src  uint64
				size uint64
				want int64
				out  string
			}{
				{"read", int32(linux.FnProbeRead), sp, 5, 0, "hello"},
				{"read kernel from the stack", int32(linux.FnProbeReadKernel), stack, 8, 0, "stackstr"},
				{"read user from the packet", int32(linux.FnProbeReadUser), addr(pkt), 6, 0, "packet"},
				{"read past the region", int32(linux.FnProbeRead), sp + 8, 9, eFAULT, "\x00\x00\x00\x00\x00\x00\x00\x00\x00"},
				{"read NULL", int32(linux.FnProbeReadKernel), 0, 4, eFAULT, "\x00\x00\x00\x00"},
				{"read wild", int32(linux.FnProbeReadUser), 0xdead0000, 4, eFAULT, "\x00\x00\x00\x00"},
				{"read below the live stack", int32(linux.FnProbeRead), e.rc.Stack().FramePointer(1) - 8, 4, eFAULT, "\x00\x00\x00\x00"},
				{"read 0 bytes", int32(linux.FnProbeRead), 0, 0, 0, ""},
				{"str (zero-filled after the NUL)", int32(linux.FnProbeReadStr), sp, 16, 6, "hello\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"},
				{"str truncated", int32(linux.FnProbeReadKernelStr), sp, 4, 4, "hel\x00"},
				{"str exactly", int32(linux.FnProbeReadUserStr), sp, 6, 6, "hello\x00"},
				{"str unterminated region", int32(linux.FnProbeReadStr), sp + 6, 16, eFAULT, "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"},
				{"str region end is the limit", int32(linux.FnProbeReadStr), sp + 6, 10, 10, "world....\x00"},
				{"str NULL", int32(linux.FnProbeReadKernelStr), 0, 8, eFAULT, "\x00\x00\x00\x00\x00\x00\x00\x00"},
				{"str size 0", int32(linux.FnProbeReadStr), sp, 0, 0, ""},
			}
			for _, tt := range tests {
				for i := range dst {
					dst[i] = 0xaa
				}
				r, err := e.h[tt.id](e.rc, dp, tt.size, tt.src, 0, 0)
				if err != nil || int64(r) != tt.want || !bytes.Equal(dst[:len(tt.out)], []byte(tt.out)) {
					t.Errorf("%s = %d, %v, dst %q; want %d, %q", tt.name, int64(r), err, dst[:len(tt.out)], tt.want, tt.out)
				}
				if len(tt.out) < len(dst) && dst[len(tt.out)] != 0xaa {
					t.Errorf("%s wrote past size", tt.name)
				}
			}
		})
	}
}

// TestSpanOverlappingRegions: a host context is its writable fields as
// small writable regions, then the whole struct read-only (the root
// package's contextRegions): a read from inside a field on past it still
// lies in memory the run owns, and probe_read copies it.
func TestSpanOverlappingRegions(t *testing.T) {
	e := newEnv(t, vm.Checked)
	ctx, cp := e.mem("context", 32, false) // heap memory: goroutine stacks move
	copy(ctx, "0123456789abcdefghijklmnopqrstuv")
	field := vm.Region{Start: uintptr(cp) + 8, Size: 4, Writable: true, Name: "context"}
	e.rc.Regions = []vm.Region{field, vm.RegionOf("context", ctx, false)}
	if n := span(e.rc, cp+8); n != 24 {
		t.Errorf("span from a writable field: %d, want the 24 bytes to the struct's end", n)
	}
	dst := make([]byte, 8)
	if ok := readOwned(e.rc, dst, cp+8); !ok || string(dst) != "89abcdef" {
		t.Errorf("read across the field's end: %v, %q", ok, dst)
	}
}
