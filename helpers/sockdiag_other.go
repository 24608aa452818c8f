//go:build !linux

package helpers

import (
	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// sockScratch is the lookup buffer (unused where lookups find nothing).
const sockScratch = 1

// lookupSocket finds no socket: bpfhost asks the host for sockets only on
// Linux (sock_diag); elsewhere every lookup returns NULL, as a Linux lookup
// that matches nothing does.
func lookupSocket(*SockLookup, *linux.SockContext, *maps.SocketID, *[sockScratch]byte) bool {
	return false
}
