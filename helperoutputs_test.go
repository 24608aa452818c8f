package bpfhost_test

import (
	"slices"
	"testing"

	"github.com/bpfhost/bpfhost/helpers"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// writtenOutputs are the helpers bpfhost implements whose prototype has an
// argument the verifier counts as written by the call whatever its result
// (verifier memWrite: uninit_mem, writable_mem_or_null, a long, an uninit
// map value), each reviewed to write or zero every byte on every path,
// failures included (helpers.TestFailedOutputsAreZeroed). The verifier
// clears what it knew of those stack bytes, a spilled pointer included:
// a helper that returns without writing them hands the program the old
// bytes as a number (bpf_check_mtu's mtu_len did, and is now read as well
// as written).
var writtenOutputs = []string{
	"bpf_probe_read", "bpf_probe_read_str", "bpf_probe_read_user", "bpf_probe_read_kernel",
	"bpf_probe_read_user_str", "bpf_probe_read_kernel_str", "bpf_get_current_comm",
	"bpf_skb_load_bytes", "bpf_xdp_load_bytes", "bpf_map_pop_elem", "bpf_map_peek_elem",
	"bpf_snprintf", "bpf_strtol", "bpf_strtoul",
	"bpf_getsockopt", // zeroed after the value and on every error (helpers.TestSockopt)
}

// TestHelperOutputsReviewed fails when a helper with such an output
// argument becomes implemented without that review: add it to
// writtenOutputs once it writes or zeroes its output on every path.
func TestHelperOutputsReviewed(t *testing.T) {
	for _, p := range linux.ABI().Helpers() {
		if !helpers.Supported(p.ID) {
			continue
		}
		for _, k := range p.Args {
			switch k {
			case platform.ArgUninitMem, platform.ArgWritableMemOrNull, platform.ArgLong, platform.ArgUninitMapValue:
				if !slices.Contains(writtenOutputs, p.Name) {
					t.Errorf("%s (%d) has a %s argument the verifier counts as written on every path: review that the helper writes or zeroes it on failure, then list it in writtenOutputs", p.Name, p.ID, k)
				}
			}
		}
	}
}
