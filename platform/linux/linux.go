package linux

import (
	"fmt"
	"sync"

	"github.com/bpfhost/bpfhost/platform"
)

// New builds the Linux ABI from this package's tables and validates it
// (platform.NewABI). Each call returns a fresh, independent value; most
// callers want the shared one from ABI.
func New() (*platform.ABI, error) {
	var (
		programs []*platform.ProgramTypeInfo
		sections []platform.Section
	)
	for _, row := range programTable() {
		info := row.info
		p := &info
		for _, s := range row.sections {
			p.Sections = append(p.Sections, s.pattern)
		}
		programs = append(programs, p)
		for _, s := range row.sections {
			sections = append(sections, platform.Section{Pattern: s.pattern, Program: p, Flags: s.flags,
				Prefix: prefixPatterns[s.pattern]})
		}
	}
	a, err := platform.NewABI("linux", programs, sections, helperProtos, mapTypes)
	if err == nil {
		err = a.AddKfuncs(kfuncProtos)
	}
	if err != nil {
		return nil, fmt.Errorf("linux ABI: %w", err)
	}
	return a, nil
}

// prefixPatterns are the patterns libbpf 0.x matched as a plain prefix of
// the section name (SEC_SLOPPY_PFX, and before libbpf 0.7 every pattern
// without a slash): "xdp_ttl" is xdp, "socket1" a socket filter and
// "cgroup/sock1" a cgroup_sock program. Patterns that end in a slash or "+"
// in libbpf 1.x ("kprobe/", "tracepoint/") needed the slash then too.
var prefixPatterns = map[string]bool{
	"socket": true, "sk_reuseport": true, "sk_reuseport/migrate": true,
	"classifier": true, "action": true, "xdp": true, "perf_event": true,
	"lwt_in": true, "lwt_out": true, "lwt_xmit": true, "lwt_seg6local": true,
	"cgroup_skb/ingress": true, "cgroup_skb/egress": true, "cgroup/skb": true,
	"cgroup/sock_create": true, "cgroup/sock_release": true, "cgroup/sock": true,
	"cgroup/post_bind4": true, "cgroup/post_bind6": true, "cgroup/dev": true,
	"sockops": true, "sk_skb": true, "sk_skb/stream_parser": true, "sk_skb/stream_verdict": true,
	"sk_msg": true, "lirc_mode2": true, "flow_dissector": true,
	"cgroup/bind4": true, "cgroup/bind6": true, "cgroup/connect4": true, "cgroup/connect6": true,
	"cgroup/sendmsg4": true, "cgroup/sendmsg6": true, "cgroup/recvmsg4": true, "cgroup/recvmsg6": true,
	"cgroup/getpeername4": true, "cgroup/getpeername6": true,
	"cgroup/getsockname4": true, "cgroup/getsockname6": true,
	"cgroup/sysctl": true, "cgroup/getsockopt": true, "cgroup/setsockopt": true, "sk_lookup": true,
}

var shared = sync.OnceValue(func() *platform.ABI {
	a, err := New()
	if err != nil {
		// The tables are constant and checked by this package's tests;
		// failing here is a bug in them, not bad input.
		panic(err)
	}
	return a
})

// ABI returns the shared Linux ABI. It is read-only and safe for concurrent
// use.
func ABI() *platform.ABI { return shared() }

// Lookup returns the program type variant an ELF section name selects,
// following libbpf (see platform.ABI.MatchSection).
func Lookup(section string) (*platform.ProgramTypeInfo, bool) { return ABI().Lookup(section) }

// ByName resolves a --type argument such as "xdp", "sched_cls",
// "cgroup_sock_addr/connect4" or a section name (see platform.ABI.ByName).
func ByName(name string) (*platform.ProgramTypeInfo, bool) { return ABI().ByName(name) }

// ByType returns the variant for a program type and expected attach type.
func ByType(t ProgramType, attach AttachType) (*platform.ProgramTypeInfo, bool) {
	return ABI().ByType(t, attach)
}

// HelperByID returns the prototype of a helper.
func HelperByID(id platform.HelperID) (*platform.HelperProto, bool) { return ABI().HelperByID(id) }

// HelperByName returns the prototype of a helper by name, with or without
// the "bpf_" prefix.
func HelperByName(name string) (*platform.HelperProto, bool) { return ABI().HelperByName(name) }

// HelperName returns a helper's name ("bpf_map_lookup_elem"), or
// "helper#N" for numbers Linux does not define.
func HelperName(id platform.HelperID) string {
	if id > 0 && int(id) < len(helperNames) {
		return "bpf_" + helperNames[id]
	}
	return id.String()
}

// ProgramTypeName returns libbpf's name for a program type ("sched_cls"),
// or "prog_type#N".
func ProgramTypeName(t ProgramType) string { return ABI().ProgramTypeName(t) }

// MapTypeInfo returns the description of a map type.
func MapTypeInfo(t platform.MapType) (*platform.MapTypeInfo, bool) { return ABI().MapType(t) }

// MapTypeName returns libbpf's name for a map type ("hash"), or
// "map_type#N".
func MapTypeName(t platform.MapType) string { return ABI().MapTypeName(t) }
