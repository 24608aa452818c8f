//go:build !windows

package daemon

import (
	"fmt"
	"os"
)

// checkStateDir refuses a state directory that users other than its owner
// may write (as sshd's StrictModes refuses such a home): they could
// rename the daemon's units away and put objects, pins and map memory of
// their own in their place, which the daemon would load at its next
// start.
func checkStateDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("state directory %s: not a directory", dir)
	}
	if m := fi.Mode().Perm(); m&0o022 != 0 {
		return fmt.Errorf("state directory %s: writable by its group or others (mode %04o); make it the daemon's alone (chmod go-w)", dir, m)
	}
	return nil
}
