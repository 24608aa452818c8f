package jit

import (
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/jit/amd64"
)

// New returns the JIT engine for this host.
func New() vm.Engine { return amd64.New() }

// Available returns nil: this host has a JIT.
func Available() error { return nil }
