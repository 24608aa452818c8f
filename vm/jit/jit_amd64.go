package jit

import (
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/jit/amd64"
)

// New returns the JIT engine for this host.
func New() vm.Engine { return amd64.New() }

// NewWithOptions returns the JIT engine for this host, configured by opts.
func NewWithOptions(opts Options) vm.Engine { return amd64.NewWithOptions(opts) }

// Available returns nil: this host has a JIT.
func Available() error { return nil }

// Listing returns the machine code of a JIT executable by eBPF slot (see
// amd64.Listing). It fails with ErrNotJIT for executables of other
// engines.
func Listing(exe vm.Executable) ([]Block, error) { return amd64.Listing(exe) }
