//go:build !linux

package maps

import "errors"

// socketOfFD: other systems have no socket cookies; user space cannot
// name a socket's storage.
func socketOfFD(int32) (SocketID, Errno) { return SocketID{}, EOPNOTSUPP }

// liveSocketInodes: not known on other systems; sweeps keep every value.
func liveSocketInodes() (map[uint64]bool, error) {
	return nil, errors.New("sk storage sweeps need Linux's /proc")
}
