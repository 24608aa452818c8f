//go:build !windows

package daemon

import (
	"errors"
	"syscall"
)

func isSyncUnsupported(err error) bool { return errors.Is(err, syscall.EINVAL) }
