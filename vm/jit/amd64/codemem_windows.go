//go:build windows

package amd64

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/bpfhost/bpfhost/vm"
)

// mapCode copies code into fresh pages that are committed read-write, then
// made read-only and executable: the pages are never writable and
// executable at once.
func mapCode(code []byte) ([]byte, error) {
	size := roundUp(len(code), os.Getpagesize())
	addr, err := windows.VirtualAlloc(0, uintptr(size), windows.MEM_COMMIT|windows.MEM_RESERVE, windows.PAGE_READWRITE)
	if err != nil {
		return nil, fmt.Errorf("jit: allocate %d bytes of code: %w", size, err)
	}
	mem := unsafe.Slice((*byte)(vm.Pointer(uint64(addr))), size)
	copy(mem, code)
	var old uint32
	if err := windows.VirtualProtect(addr, uintptr(size), windows.PAGE_EXECUTE_READ, &old); err != nil {
		_ = windows.VirtualFree(addr, 0, windows.MEM_RELEASE)
		return nil, fmt.Errorf("jit: make code executable: %w", err)
	}
	return mem, nil
}

// unmapCode releases memory from mapCode.
func unmapCode(mem []byte) error {
	if err := windows.VirtualFree(uintptr(unsafe.Pointer(&mem[0])), 0, windows.MEM_RELEASE); err != nil {
		return fmt.Errorf("jit: free code: %w", err)
	}
	return nil
}
