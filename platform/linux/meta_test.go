package linux

import (
	"testing"

	"github.com/bpfhost/bpfhost/platform"
)

// TestXDPTestRunMetaWithinBound: an XDP test run takes no more metadata
// than the verifier assumes a packet has (platform.MaxMetaSize).
func TestXDPTestRunMetaWithinBound(t *testing.T) {
	if xdpMetaMax > platform.MaxMetaSize {
		t.Errorf("XDP test runs take %d bytes of metadata, the verifier assumes at most %d", xdpMetaMax, platform.MaxMetaSize)
	}
}
