package linux

import (
	"testing"

	"github.com/bpfhost/bpfhost/platform"
)

func TestLookupSections(t *testing.T) {
	tests := []struct {
		section string
		typ     ProgramType
		attach  AttachType
		variant string
		flags   platform.SectionFlags
		legacy  bool
	}{
		{"socket", SocketFilter, 0, "", 0, false},
		{"socket1", SocketFilter, 0, "", 0, true},
		{"kprobe/do_unlinkat", Kprobe, 0, "", 0, false},
		{"kprobe/tcp_v4_connect+0x10", Kprobe, 0, "", 0, false},
		{"kretprobe/do_unlinkat", Kprobe, 0, "", 0, false},
		{"uprobe//bin/bash:readline", Kprobe, 0, "", 0, false},
		{"uretprobe.s//usr/lib/libc.so.6:malloc", Kprobe, 0, "", platform.SectionSleepable, false},
		{"usdt/./prog:provider:probe", Kprobe, 0, "", 0, false},
		{"ksyscall/execve", Kprobe, 0, "", 0, false},
		{"kretsyscall/execve", Kprobe, 0, "", 0, false},
		{"kprobe.multi/tcp_*", Kprobe, AttachTraceKprobeMulti, "kprobe.multi", 0, false},
		{"kretprobe.multi/tcp_*", Kprobe, AttachTraceKprobeMulti, "kprobe.multi", 0, false},
		{"uprobe.multi//bin/bash:read*", Kprobe, AttachTraceUprobeMulti, "uprobe.multi", 0, false},
		{"kprobe.session/tcp_*", Kprobe, AttachTraceKprobeSession, "kprobe.session", 0, false},
		{"uprobe.session//bin/bash:read*", Kprobe, AttachTraceUprobeSession, "uprobe.session", 0, false},
		{"uprobe.session.s//bin/bash:read*", Kprobe, AttachTraceUprobeSession, "uprobe.session", platform.SectionSleepable, false},
		{"xdp_ttl", XDP, AttachXDP, "", 0, true},
		{"xdp1", XDP, AttachXDP, "", 0, true},
		{"socket/0", SocketFilter, 0, "", 0, true},
		{"cgroup/sock1", CGroupSock, AttachCGroupInetSockCreate, "sock_create", 0, true},
		{"cgroup/sock_release2", CGroupSock, AttachCGroupInetSockRelease, "sock_release", 0, true},
		{"sk_skb/stream_parser_x", SkSKB, AttachSkSKBStreamParser, "stream_parser", 0, true},
		{"sk_skb/verdict", SkSKB, AttachSkSKBVerdict, "verdict", 0, false},
		{"perf_event_x", PerfEvent, 0, "", 0, true},
		{"lwt_xmit_1", LWTXmit, 0, "", 0, true},
		{"tc", SchedCLS, 0, "", 0, false},
		{"classifier", SchedCLS, 0, "", 0, false},
		{"classifier/ingress", SchedCLS, 0, "", 0, true},
		{"tc/ingress", SchedCLS, AttachTCXIngress, "tcx_ingress", 0, false},
		{"tcx/ingress", SchedCLS, AttachTCXIngress, "tcx_ingress", 0, false},
		{"tcx/egress", SchedCLS, AttachTCXEgress, "tcx_egress", 0, false},
		{"netkit/peer", SchedCLS, AttachNetkitPeer, "netkit_peer", 0, false},
		{"action", SchedACT, 0, "", 0, false},
		{"tracepoint/syscalls/sys_enter_openat", Tracepoint, 0, "", 0, false},
		{"tp/sched/sched_switch", Tracepoint, 0, "", 0, false},
		{"xdp", XDP, AttachXDP, "", 0, false},
		{"xdp.frags", XDP, AttachXDP, "", platform.SectionXDPFrags, false},
		{"xdp/devmap", XDP, AttachXDPDevMap, "devmap", 0, false},
		{"xdp.frags/devmap", XDP, AttachXDPDevMap, "devmap", platform.SectionXDPFrags, false},
		{"xdp/cpumap", XDP, AttachXDPCPUMap, "cpumap", 0, false},
		{"xdp_redirect_map", XDP, AttachXDP, "", 0, true},
		{"perf_event", PerfEvent, 0, "", 0, false},
		{"cgroup_skb/ingress", CGroupSKB, AttachCGroupInetIngress, "ingress", 0, false},
		{"cgroup_skb/egress", CGroupSKB, AttachCGroupInetEgress, "egress", 0, false},
		{"cgroup/skb", CGroupSKB, AttachCGroupInetIngress, "ingress", 0, false},
		{"cgroup/sock_create", CGroupSock, AttachCGroupInetSockCreate, "sock_create", 0, false},
		{"cgroup/sock", CGroupSock, AttachCGroupInetSockCreate, "sock_create", 0, false},
		{"cgroup/sock_release", CGroupSock, AttachCGroupInetSockRelease, "sock_release", 0, false},
		{"cgroup/post_bind4", CGroupSock, AttachCGroupInet4PostBind, "post_bind4", 0, false},
		{"cgroup/post_bind6", CGroupSock, AttachCGroupInet6PostBind, "post_bind6", 0, false},
		{"lwt_in", LWTIn, 0, "", 0, false},
		{"lwt_out", LWTOut, 0, "", 0, false},
		{"lwt_xmit", LWTXmit, 0, "", 0, false},
		{"lwt_seg6local", LWTSeg6Local, 0, "", 0, false},
		{"sockops", SockOps, AttachCGroupSockOps, "", 0, false},
		{"sk_skb", SkSKB, 0, "", 0, false},
		{"sk_skb/stream_parser", SkSKB, AttachSkSKBStreamParser, "stream_parser", 0, false},
		{"sk_skb/stream_verdict", SkSKB, AttachSkSKBStreamVerdict, "stream_verdict", 0, false},
		{"cgroup/dev", CGroupDevice, AttachCGroupDevice, "", 0, false},
		{"sk_msg", SkMsg, AttachSkMsgVerdict, "", 0, false},
		{"raw_tracepoint/sched_switch", RawTracepoint, 0, "", 0, false},
		{"raw_tp/sys_enter", RawTracepoint, 0, "", 0, false},
		{"raw_tp.w/bpf_test_finish", RawTracepointWritable, 0, "", 0, false},
		{"raw_tracepoint.w/bpf_test_finish", RawTracepointWritable, 0, "", 0, false},
		{"cgroup/bind4", CGroupSockAddr, AttachCGroupInet4Bind, "bind4", 0, false},
		{"cgroup/bind6", CGroupSockAddr, AttachCGroupInet6Bind, "bind6", 0, false},
		{"cgroup/connect4", CGroupSockAddr, AttachCGroupInet4Connect, "connect4", 0, false},
		{"cgroup/connect6", CGroupSockAddr, AttachCGroupInet6Connect, "connect6", 0, false},
		{"cgroup/connect_unix", CGroupSockAddr, AttachCGroupUnixConnect, "connect_unix", 0, false},
		{"cgroup/sendmsg4", CGroupSockAddr, AttachCGroupUDP4Sendmsg, "sendmsg4", 0, false},
		{"cgroup/sendmsg6", CGroupSockAddr, AttachCGroupUDP6Sendmsg, "sendmsg6", 0, false},
		{"cgroup/recvmsg4", CGroupSockAddr, AttachCGroupUDP4Recvmsg, "recvmsg4", 0, false},
		{"cgroup/recvmsg6", CGroupSockAddr, AttachCGroupUDP6Recvmsg, "recvmsg6", 0, false},
		{"cgroup/getpeername4", CGroupSockAddr, AttachCGroupInet4Getpeername, "getpeername4", 0, false},
		{"cgroup/getsockname6", CGroupSockAddr, AttachCGroupInet6Getsockname, "getsockname6", 0, false},
		{"lirc_mode2", LircMode2, AttachLircMode2, "", 0, false},
		{"sk_reuseport", SkReuseport, AttachSkReuseportSelect, "select", 0, false},
		{"sk_reuseport/migrate", SkReuseport, AttachSkReuseportSelectOrMigrate, "migrate", 0, false},
		{"flow_dissector", FlowDissector, AttachFlowDissector, "", 0, false},
		{"cgroup/sysctl", CGroupSysctl, AttachCGroupSysctl, "", 0, false},
		{"cgroup/getsockopt", CGroupSockopt, AttachCGroupGetsockopt, "getsockopt", 0, false},
		{"cgroup/setsockopt", CGroupSockopt, AttachCGroupSetsockopt, "setsockopt", 0, false},
		{"fentry/tcp_connect", Tracing, AttachTraceFEntry, "fentry", platform.SectionAttachBTF, false},
		{"fentry.s/do_sys_open", Tracing, AttachTraceFEntry, "fentry", platform.SectionAttachBTF | platform.SectionSleepable, false},
		{"fexit/tcp_connect", Tracing, AttachTraceFExit, "fexit", platform.SectionAttachBTF, false},
		{"fmod_ret/bpf_modify_return_test", Tracing, AttachModifyReturn, "fmod_ret", platform.SectionAttachBTF, false},
		{"tp_btf/sched_switch", Tracing, AttachTraceRawTp, "tp_btf", platform.SectionAttachBTF, false},
		{"iter/task", Tracing, AttachTraceIter, "iter", platform.SectionAttachBTF, false},
		{"struct_ops/tcp_ca_init", StructOps, 0, "", 0, false},
		{"struct_ops.s/init", StructOps, 0, "", platform.SectionSleepable, false},
		{"freplace/xdp_func", Extension, 0, "", platform.SectionAttachBTF, false},
		{"lsm/file_open", LSM, AttachLSMMac, "", platform.SectionAttachBTF, false},
		{"lsm.s/bprm_committed_creds", LSM, AttachLSMMac, "", platform.SectionAttachBTF | platform.SectionSleepable, false},
		{"lsm_cgroup/socket_bind", LSM, AttachLSMCGroup, "cgroup", platform.SectionAttachBTF, false},
		{"sk_lookup", SkLookup, AttachSkLookup, "", 0, false},
		{"syscall", Syscall, 0, "", platform.SectionSleepable, false},
		{"netfilter", Netfilter, AttachNetfilter, "", 0, false},
		{"bpfhost", Generic, 0, "", 0, false},
		{"bpfhost/checksum", Generic, 0, "", 0, false},
	}
	a := testABI(t)
	for _, tt := range tests {
		s, legacy, ok := a.MatchSection(tt.section)
		if !ok {
			t.Errorf("%q: no match", tt.section)
			continue
		}
		p := s.Program
		if p.Type != tt.typ || p.Attach != tt.attach || p.Variant != tt.variant || s.Flags != tt.flags || legacy != tt.legacy {
			t.Errorf("%q: got %s type %d attach %d flags %d legacy %v (pattern %q), want type %d attach %d variant %q flags %d legacy %v",
				tt.section, p, p.Type, p.Attach, s.Flags, legacy, s.Pattern, tt.typ, tt.attach, tt.variant, tt.flags, tt.legacy)
		}
		if got, ok := Lookup(tt.section); !ok || got.String() != p.String() || got.Type != p.Type {
			t.Errorf("Lookup(%q) = %v, %v, want %s", tt.section, got, ok, p)
		}
	}
	// Names only their loader gives a type (tc, iproute2, OVS, Cilium), and
	// names old libbpf did not match either: "kprobe/" needed its slash.
	for _, bad := range []string{"", "license", "maps", ".text", ".rodata", "kprobes_are_cool_but_no",
		"2/1", "from-netdev", "filter", "test", "tail-3", "ingress", "len_hist", "loadbalancer",
		"tpx", "tcx_ingress", "tracepointx", "raw_tp_foo", "fentryx"} {
		if s, legacy, ok := a.MatchSection(bad); ok {
			t.Errorf("%q matched %q (legacy %v)", bad, s.Pattern, legacy)
		}
	}
}

func TestByNameLinux(t *testing.T) {
	tests := []struct {
		name   string
		typ    ProgramType
		attach AttachType
	}{
		{"xdp", XDP, AttachXDP},
		{"socket_filter", SocketFilter, 0},
		{"sched_cls", SchedCLS, 0},
		{"sched_act", SchedACT, 0},
		{"cgroup_skb", CGroupSKB, AttachCGroupInetIngress},
		{"cgroup_skb/egress", CGroupSKB, AttachCGroupInetEgress},
		{"cgroup_sock_addr", CGroupSockAddr, AttachCGroupInet4Connect},
		{"cgroup_sock_addr/bind6", CGroupSockAddr, AttachCGroupInet6Bind},
		{"cgroup/connect6", CGroupSockAddr, AttachCGroupInet6Connect},
		{"tracing/fexit", Tracing, AttachTraceFExit},
		{"bpfhost_generic", Generic, 0},
		{"kprobe", Kprobe, 0},
		{"tc", SchedCLS, 0},
	}
	for _, tt := range tests {
		p, ok := ByName(tt.name)
		if !ok || p.Type != tt.typ || p.Attach != tt.attach {
			t.Errorf("ByName(%q) = %v, %v; want type %d attach %d", tt.name, p, ok, tt.typ, tt.attach)
		}
	}
	if p, ok := ByType(CGroupSockAddr, AttachCGroupUDP4Recvmsg); !ok || p.Variant != "recvmsg4" || *p.Return != (platform.Range{Min: 1, Max: 1}) {
		t.Errorf("ByType(sock_addr, recvmsg4) = %v", p)
	}
	if _, ok := ByType(CGroupSockAddr, AttachXDP); ok {
		t.Error("ByType(sock_addr, xdp) matched")
	}
	if ProgramTypeName(SchedCLS) != "sched_cls" || ProgramTypeName(Generic) != "bpfhost_generic" {
		t.Error("ProgramTypeName")
	}
}

// TestEveryProgramType checks that every Linux program type has a
// descriptor, a section and sensible properties.
func TestEveryProgramType(t *testing.T) {
	a := testABI(t)
	seen := map[ProgramType]bool{}
	for _, p := range a.Programs() {
		seen[p.Type] = true
		if len(p.Sections) == 0 {
			t.Errorf("%s has no section", p)
		}
		if len(p.Helpers) == 0 {
			t.Errorf("%s allows no helpers", p)
		}
		if p.PacketAccess&platform.Write != 0 && p.PacketAccess&platform.Read == 0 {
			t.Errorf("%s writes packets without reading them", p)
		}
		if p.AttachName != "" && AttachTypeName(p.Attach) != p.AttachName {
			t.Errorf("%s: attach %d named %q", p, p.Attach, p.AttachName)
		}
		for _, id := range p.Helpers.IDs() {
			if h, _ := a.HelperByID(id); p.Type == Generic && h.KernelOnly {
				t.Errorf("generic type allows kernel-only %s", h)
			}
		}
	}
	for typ := SocketFilter; typ <= Netfilter; typ++ {
		if !seen[typ] {
			t.Errorf("program type %d has no descriptor", typ)
		}
	}
	hosted := map[string]bool{}
	for _, p := range a.Programs() {
		if p.Hosted() {
			hosted[p.Name] = true
		}
	}
	for _, name := range []string{"xdp", "socket_filter", "sched_cls", "sched_act", "cgroup_skb", "cgroup_sock_addr", "cgroup_sock", "bpfhost_generic"} {
		if !hosted[name] {
			t.Errorf("%s is not hosted", name)
		}
	}
}

// TestLibbpfSectionDefs checks that every pattern of libbpf's section_defs
// (libbpf 1.6, tools/lib/bpf/libbpf.c) is in the table, so that an object
// built for libbpf gets the type libbpf would give it, and that the patterns
// older libbpf matched by prefix are marked so.
func TestLibbpfSectionDefs(t *testing.T) {
	libbpf := []string{
		"socket", "sk_reuseport/migrate", "sk_reuseport",
		"kprobe+", "uprobe+", "uprobe.s+", "kretprobe+", "uretprobe+", "uretprobe.s+",
		"kprobe.multi+", "kretprobe.multi+", "kprobe.session+", "uprobe.multi+", "uretprobe.multi+",
		"uprobe.session+", "uprobe.multi.s+", "uretprobe.multi.s+", "uprobe.session.s+",
		"ksyscall+", "kretsyscall+", "usdt+", "usdt.s+",
		"tc/ingress", "tc/egress", "tcx/ingress", "tcx/egress", "tc", "classifier", "action",
		"netkit/primary", "netkit/peer",
		"tracepoint+", "tp+", "raw_tracepoint+", "raw_tp+", "raw_tracepoint.w+", "raw_tp.w+",
		"tp_btf+", "fentry+", "fmod_ret+", "fexit+", "fentry.s+", "fmod_ret.s+", "fexit.s+", "freplace+",
		"lsm+", "lsm.s+", "lsm_cgroup+", "iter+", "iter.s+", "syscall",
		"xdp.frags/devmap", "xdp/devmap", "xdp.frags/cpumap", "xdp/cpumap", "xdp.frags", "xdp",
		"perf_event", "lwt_in", "lwt_out", "lwt_xmit", "lwt_seg6local", "sockops",
		"sk_skb/stream_parser", "sk_skb/stream_verdict", "sk_skb/verdict", "sk_skb", "sk_msg",
		"lirc_mode2", "flow_dissector",
		"cgroup_skb/ingress", "cgroup_skb/egress", "cgroup/skb", "cgroup/sock_create", "cgroup/sock_release",
		"cgroup/sock", "cgroup/post_bind4", "cgroup/post_bind6",
		"cgroup/bind4", "cgroup/bind6", "cgroup/connect4", "cgroup/connect6", "cgroup/connect_unix",
		"cgroup/sendmsg4", "cgroup/sendmsg6", "cgroup/sendmsg_unix", "cgroup/recvmsg4", "cgroup/recvmsg6",
		"cgroup/recvmsg_unix", "cgroup/getpeername4", "cgroup/getpeername6", "cgroup/getpeername_unix",
		"cgroup/getsockname4", "cgroup/getsockname6", "cgroup/getsockname_unix",
		"cgroup/sysctl", "cgroup/getsockopt", "cgroup/setsockopt", "cgroup/dev",
		"struct_ops+", "struct_ops.s+", "sk_lookup", "netfilter",
	}
	have := map[string]bool{}
	for _, s := range testABI(t).Sections() {
		have[s.Pattern] = true
	}
	for _, p := range libbpf {
		if !have[p] {
			t.Errorf("libbpf's section %q is not in the table", p)
		}
	}
	for p := range prefixPatterns {
		if !have[p] {
			t.Errorf("prefix pattern %q is not in the table", p)
		}
	}
}
