//go:build !linux

package xdp

import (
	"fmt"
	"runtime"

	"github.com/bpfhost/bpfhost"
)

// Link is an XDP program attached to interfaces. On this system there are
// none: Attach always fails.
type Link struct{}

// Attach fails with ErrNotSupported: the data path needs Linux's AF_PACKET.
func Attach(prog *bpfhost.Program, opts Options) (*Link, error) {
	if err := checkProgram(prog); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("xdp: attach to %q: %w %s", opts.Interface, ErrNotSupported, runtime.GOOS)
}

// Close detaches the program.
func (l *Link) Close() error { return nil }

// Update replaces the program.
func (l *Link) Update(prog *bpfhost.Program) error {
	return fmt.Errorf("xdp: %w %s", ErrNotSupported, runtime.GOOS)
}

// Program returns the program the link runs.
func (l *Link) Program() *bpfhost.Program { return nil }

// Stats returns the link's counters.
func (l *Link) Stats() Stats { return Stats{} }

// Trace returns the trace lines kept since the last call.
func (l *Link) Trace() []string { return nil }

// Interfaces returns the names of the interfaces the link is attached to.
func (l *Link) Interfaces() []string { return nil }

// Offloads describes the receive offloads Attach turned off.
func (l *Link) Offloads() []string { return nil }

// Done returns a channel closed when the link stops by itself.
func (l *Link) Done() <-chan struct{} { return nil }

// Err returns why the link stopped by itself, or nil.
func (l *Link) Err() error { return nil }
