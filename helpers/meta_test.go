package helpers

import (
	"testing"

	"github.com/bpfhost/bpfhost/platform"
)

// TestXDPAdjustMetaWithinBound: bpf_xdp_adjust_meta makes no more metadata
// than the verifier assumes a packet has (platform.MaxMetaSize).
func TestXDPAdjustMetaWithinBound(t *testing.T) {
	if xdpMaxMeta > platform.MaxMetaSize {
		t.Errorf("bpf_xdp_adjust_meta allows %d bytes of metadata, the verifier assumes at most %d", xdpMaxMeta, platform.MaxMetaSize)
	}
}
