//go:build !linux

package daemon

import (
	"errors"
	"net"
)

// peerOf cannot read peer credentials outside Linux: an Authorizer then
// refuses everyone, and only a daemon without one (tests) serves.
func peerOf(net.Conn) (Peer, error) {
	return Peer{}, errors.New("peer credentials are read on Linux only")
}
