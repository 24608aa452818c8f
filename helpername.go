package bpfhost

import (
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// HelperName returns the name of the helper a call instruction's immediate
// names under the Linux ABI ("bpf_map_lookup_elem" for 1), or "helper#N"
// for an ID Linux does not define; listings print it as bpftool does.
func HelperName(id int32) string {
	return linux.ABI().HelperName(platform.HelperID(id))
}
