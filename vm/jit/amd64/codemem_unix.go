//go:build unix

package amd64

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// mapCode copies code into fresh anonymous pages that are mapped writable,
// then made read-only and executable: the pages are never writable and
// executable at once.
func mapCode(code []byte) ([]byte, error) {
	size := roundUp(len(code), os.Getpagesize())
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil, fmt.Errorf("jit: map %d bytes of code: %w", size, err)
	}
	copy(mem, code)
	if err := unix.Mprotect(mem, unix.PROT_READ|unix.PROT_EXEC); err != nil {
		_ = unix.Munmap(mem)
		return nil, fmt.Errorf("jit: make code executable: %w", err)
	}
	return mem, nil
}

// unmapCode releases memory from mapCode.
func unmapCode(mem []byte) error {
	if err := unix.Munmap(mem); err != nil {
		return fmt.Errorf("jit: unmap code: %w", err)
	}
	return nil
}
