//go:build !amd64

package jit

import (
	"fmt"
	"runtime"

	"github.com/bpfhost/bpfhost/vm"
)

// New returns an engine whose Compile fails: this host has no JIT.
func New() vm.Engine { return unavailable{} }

// NewWithOptions returns an engine whose Compile fails: this host has no
// JIT.
func NewWithOptions(Options) vm.Engine { return unavailable{} }

// Available returns an error wrapping vm.ErrUnsupported: this host has no
// JIT.
func Available() error {
	return fmt.Errorf("%w: JIT not available on %s", vm.ErrUnsupported, runtime.GOARCH)
}

// Listing fails with an error wrapping vm.ErrUnsupported: this host has no
// JIT, so no executable is a JIT executable.
func Listing(vm.Executable) ([]Block, error) { return nil, Available() }

type unavailable struct{}

func (unavailable) Name() string { return "jit" }

func (unavailable) Compile(*vm.Program, vm.CompileOptions) (vm.Executable, error) {
	return nil, Available()
}
