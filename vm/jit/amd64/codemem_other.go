//go:build !unix && !windows

package amd64

import (
	"fmt"
	"runtime"

	"github.com/bpfhost/bpfhost/vm"
)

func mapCode([]byte) ([]byte, error) {
	return nil, fmt.Errorf("%w: no executable memory on %s", vm.ErrUnsupported, runtime.GOOS)
}

func unmapCode([]byte) error { return nil }
