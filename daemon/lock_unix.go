//go:build !windows

package daemon

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// lockState takes the state directory's lock, so that two daemons never
// share one: the second fails at start. The kernel drops the lock when the
// daemon dies, however it dies.
func lockState(dir string) (*os.File, error) {
	f, err := os.OpenFile(dir+"/lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("state directory %s is in use by another daemon", dir)
		}
		return nil, fmt.Errorf("locking the state directory %s: %w", dir, err)
	}
	return f, nil
}
