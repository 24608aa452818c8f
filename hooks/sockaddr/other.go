//go:build !linux

package sockaddr

import (
	"fmt"
	"log/slog"
	"os/exec"
	"runtime"
)

// Options configure Start.
type Options struct {
	// Logger receives programs' run errors.
	Logger *slog.Logger
}

// Link supervises a started command; on this OS there is none.
type Link struct{}

// Start fails: socket hooks need Linux's seccomp user notification.
func Start(cmd *exec.Cmd, attach []Attach, opts *Options) (*Link, error) {
	return nil, fmt.Errorf("%w (%s)", ErrNotSupported, runtime.GOOS)
}

// Wait returns ErrNotSupported.
func (l *Link) Wait() error { return ErrNotSupported }

// Close does nothing.
func (l *Link) Close() error { return nil }

// Stats returns nothing.
func (l *Link) Stats() []ProgramStats { return nil }
