package verifier

import "github.com/bpfhost/bpfhost/platform"

// AF_XDP sockets: bpf_map_lookup_elem on an xskmap returns the socket at
// the index, struct bpf_xdp_sock, or NULL (Linux's PTR_TO_XDP_SOCK). It is
// no reference (nothing to release); a non-NULL one may be read at the
// offsets and widths the map type's LookupStruct allows (queue_id, a whole
// u32), never written and never moved by arithmetic. The value's region
// is the xskmap's id. bpfhost has no AF_XDP sockets, so at run time the
// lookup finds none (maps/xskmap.go); the checks are Linux's all the same,
// so that a program is refused where Linux refuses it.

// xdpSockAccess checks a load or store through an AF_XDP socket pointer
// (not NULL).
func (e *exec) xdpSockAccess(s *state, m access) (value, ival, loc) {
	var d *platform.ContextDescriptor
	if mt, ok := e.a.opts.ABI.MapType(e.a.maps[s.regs[m.base].region].Type); ok {
		d = mt.LookupStruct
	}
	return e.readOnlyAccess(s, m, d, "an AF_XDP socket cannot be written")
}
