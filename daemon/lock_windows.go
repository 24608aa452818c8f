package daemon

import "os"

// lockState opens the state directory's lock file; Windows keeps no
// advisory lock on it (the daemon runs on Linux).
func lockState(dir string) (*os.File, error) {
	return os.OpenFile(dir+"/lock", os.O_RDWR|os.O_CREATE, 0o600)
}
