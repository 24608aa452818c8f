package linux

import (
	"testing"

	"github.com/bpfhost/bpfhost/platform"
)

// TestContextRules spot-checks the access rules that differ between program
// types, as the Linux verifier applies them.
func TestContextRules(t *testing.T) {
	tests := []struct {
		section   string
		off, size int
		write     bool
		ok        bool
		kind      platform.FieldKind
	}{
		// xdp_md: whole u32 reads only, no writes, egress_ifindex for devmap.
		{"xdp", 0, 4, false, true, platform.FieldPacketData},
		{"xdp", 4, 4, false, true, platform.FieldPacketEnd},
		{"xdp", 8, 4, false, true, platform.FieldPacketMeta},
		{"xdp", 12, 2, false, false, 0},
		{"xdp", 16, 4, true, false, 0},
		{"xdp", 20, 4, false, false, 0},
		{"xdp/devmap", 20, 4, false, true, platform.FieldScalar},
		{"xdp", 24, 4, false, false, 0},

		// __sk_buff in socket filters: no packet pointers, only cb writable.
		{"socket", 76, 4, false, false, 0},
		{"socket", 0, 4, false, true, platform.FieldScalar},
		{"socket", 8, 4, true, false, 0},
		{"socket", 48, 4, true, true, platform.FieldScalar},
		{"socket", 88, 4, false, false, 0},
		{"socket", 168, 8, false, true, platform.FieldSockCommonOrNull},
		{"socket", 152, 8, false, false, 0},
		{"socket", 72, 4, false, false, 0},

		// tc: packet pointers including meta; mark, tc_classid, queue_mapping,
		// tstamp writable; no socket address fields.
		{"tc", 76, 4, false, true, platform.FieldPacketData},
		{"tc", 140, 4, false, true, platform.FieldPacketMeta},
		{"tc", 76, 2, false, false, 0},
		{"tc", 8, 4, true, true, platform.FieldScalar},
		{"tc", 8, 2, true, false, 0},
		{"tc", 72, 4, true, true, platform.FieldScalar},
		{"tc", 12, 4, true, true, platform.FieldScalar},
		{"tc", 0, 4, true, false, 0},
		{"tc", 152, 8, true, true, platform.FieldScalar},
		{"tc", 152, 4, false, false, 0},
		{"tc", 88, 4, false, false, 0},
		{"tc", 180, 1, false, true, platform.FieldScalar},
		{"tc", 181, 1, false, false, 0},
		{"tc", 184, 8, false, true, platform.FieldScalar},
		{"tc", 184, 8, true, false, 0},
		{"tc", 144, 8, false, false, 0},
		{"tc", 64, 8, false, false, 0}, // crosses the end of cb

		// cgroup_skb: data but no data_meta; socket fields readable;
		// mark and priority writable, tc_index not.
		{"cgroup_skb/ingress", 76, 4, false, true, platform.FieldPacketData},
		{"cgroup_skb/ingress", 140, 4, false, false, 0},
		{"cgroup_skb/ingress", 88, 4, false, true, platform.FieldScalar},
		{"cgroup_skb/ingress", 92, 2, false, false, 0},
		{"cgroup_skb/ingress", 8, 4, true, true, platform.FieldScalar},
		{"cgroup_skb/ingress", 32, 4, true, true, platform.FieldScalar},
		{"cgroup_skb/ingress", 44, 4, true, false, 0},
		{"cgroup_skb/ingress", 180, 1, false, false, 0},

		// sk_skb: mark unreadable, tc_index writable.
		{"sk_skb", 8, 4, false, false, 0},
		{"sk_skb", 44, 4, true, true, platform.FieldScalar},
		{"sk_skb", 88, 4, false, true, platform.FieldScalar},

		// lwt: no data_meta, no tstamp.
		{"lwt_xmit", 140, 4, false, false, 0},
		{"lwt_in", 152, 8, false, false, 0},
		{"lwt_out", 8, 4, true, true, platform.FieldScalar},

		// flow dissector: data, data_end and flow_keys only, read-only.
		{"flow_dissector", 76, 4, false, true, platform.FieldPacketData},
		{"flow_dissector", 144, 8, false, true, platform.FieldFlowKeys},
		{"flow_dissector", 0, 4, false, false, 0},
		{"flow_dissector", 48, 4, true, false, 0},

		// bpf_sock_addr: family-specific addresses, message source for sendmsg.
		{"cgroup/connect4", 4, 4, true, true, platform.FieldScalar},
		{"cgroup/connect4", 4, 2, true, false, 0},
		{"cgroup/connect4", 5, 1, false, true, platform.FieldScalar},
		{"cgroup/connect4", 8, 4, false, false, 0},
		{"cgroup/connect6", 8, 8, true, true, platform.FieldScalar},
		{"cgroup/connect6", 12, 8, false, false, 0},
		{"cgroup/connect6", 4, 4, false, false, 0},
		{"cgroup/connect4", 24, 4, true, true, platform.FieldScalar},
		{"cgroup/connect4", 0, 4, true, false, 0},
		{"cgroup/connect4", 40, 4, false, false, 0},
		{"cgroup/sendmsg4", 40, 4, true, true, platform.FieldScalar},
		{"cgroup/sendmsg6", 48, 8, true, true, platform.FieldScalar},
		{"cgroup/sendmsg6", 44, 8, true, false, 0},
		{"cgroup/connect4", 64, 8, false, true, platform.FieldSocket},
		{"cgroup/connect_unix", 24, 4, false, true, platform.FieldScalar},
		{"cgroup/connect_unix", 4, 4, false, false, 0},

		// bpf_sock in cgroup_sock programs.
		{"cgroup/sock_create", 16, 4, true, true, platform.FieldScalar},
		{"cgroup/sock_create", 24, 4, false, false, 0},
		{"cgroup/post_bind4", 16, 4, false, false, 0},
		{"cgroup/post_bind4", 24, 4, false, true, platform.FieldScalar},
		{"cgroup/post_bind4", 44, 4, false, true, platform.FieldScalar},
		{"cgroup/post_bind4", 28, 4, false, false, 0},
		{"cgroup/post_bind6", 28, 4, false, true, platform.FieldScalar},
		{"cgroup/post_bind6", 48, 4, false, true, platform.FieldScalar},
		{"cgroup/post_bind6", 48, 2, false, true, platform.FieldScalar},
		{"cgroup/post_bind6", 50, 2, false, false, 0},

		// sock_ops: reply and sk_txhash writable, u64 counters, packet.
		{"sockops", 4, 4, true, true, platform.FieldScalar},
		{"sockops", 8, 4, true, false, 0},
		{"sockops", 8, 4, false, true, platform.FieldScalar},
		{"sockops", 164, 4, true, true, platform.FieldScalar},
		{"sockops", 168, 8, false, true, platform.FieldScalar},
		{"sockops", 168, 4, false, false, 0},
		{"sockops", 192, 8, false, true, platform.FieldPacketData},
		{"sockops", 212, 1, false, true, platform.FieldScalar},
		{"sockops", 208, 2, false, false, 0},

		// sk_lookup: remote_port as __be16 or u32, padding reads as zero.
		{"sk_lookup", 36, 2, false, true, platform.FieldScalar},
		{"sk_lookup", 36, 4, false, true, platform.FieldScalar},
		{"sk_lookup", 38, 2, false, true, platform.FieldPadding},
		{"sk_lookup", 0, 8, false, true, platform.FieldSocketOrNull},
		{"sk_lookup", 8, 4, true, false, 0},
		{"sk_lookup", 68, 4, false, false, 0},

		// sockopt: retval only for getsockopt, level for setsockopt.
		{"cgroup/getsockopt", 36, 4, true, true, platform.FieldScalar},
		{"cgroup/setsockopt", 36, 4, false, false, 0},
		{"cgroup/setsockopt", 24, 4, true, true, platform.FieldScalar},
		{"cgroup/getsockopt", 24, 4, true, false, 0},
		{"cgroup/getsockopt", 8, 8, false, true, platform.FieldPacketData},

		// sk_msg, sk_reuseport, sysctl, device, tracing.
		{"sk_msg", 0, 8, false, true, platform.FieldPacketData},
		{"sk_msg", 16, 2, false, false, 0},
		{"sk_reuseport", 20, 1, false, false, 0},
		{"sk_reuseport", 20, 2, false, true, platform.FieldScalar},
		{"sk_reuseport", 36, 4, false, false, 0},
		{"cgroup/sysctl", 4, 4, true, true, platform.FieldScalar},
		{"cgroup/sysctl", 0, 4, true, false, 0},
		{"cgroup/dev", 1, 1, false, true, platform.FieldScalar},
		{"cgroup/dev", 5, 1, false, false, 0},
		{"kprobe/x", 112, 8, false, true, platform.FieldScalar},
		{"kprobe/x", 116, 4, false, true, platform.FieldScalar},
		{"kprobe/x", 112, 8, true, false, 0},
		{"kprobe/x", 168, 8, false, false, 0},
		{"perf_event", 4, 4, false, false, 0},
		{"perf_event", 172, 4, false, true, platform.FieldScalar},
		{"tracepoint/a/b", 0, 8, false, false, 0},
		{"tracepoint/a/b", 8, 4, false, true, platform.FieldScalar},
		{"tracepoint/a/b", 2040, 8, false, true, platform.FieldScalar},
		{"tracepoint/a/b", 2048, 1, false, false, 0},
		{"raw_tp/x", 88, 8, false, true, platform.FieldScalar},
		{"raw_tp/x", 96, 8, false, false, 0},
		{"raw_tp.w/x", 0, 8, false, true, platform.FieldTPBuffer},
		{"fentry/x", 8, 8, false, true, platform.FieldScalar},
		{"fentry/x", 8, 4, false, false, 0},
		{"netfilter", 8, 8, false, true, platform.FieldBTFPointer},
		{"syscall", 104, 8, true, true, platform.FieldScalar},
	}
	a := testABI(t)
	for _, tt := range tests {
		p, ok := a.Lookup(tt.section)
		if !ok {
			t.Fatalf("no program type for %s", tt.section)
		}
		f, err := p.Context.Check(tt.off, tt.size, tt.write)
		switch {
		case tt.ok && err != nil:
			t.Errorf("%s: %d-byte access at %d (write %v): %v", p, tt.size, tt.off, tt.write, err)
		case !tt.ok && err == nil:
			t.Errorf("%s: %d-byte access at %d (write %v) accepted (field %s)", p, tt.size, tt.off, tt.write, f.Name)
		case tt.ok && f.Kind != tt.kind:
			t.Errorf("%s: field %s is %s, want %s", p, f.Name, f.Kind, tt.kind)
		}
	}
}

// TestTargets checks the structures behind socket and flow-keys pointers.
func TestTargets(t *testing.T) {
	a := testABI(t)
	p, _ := a.Lookup("tc")
	sk, _ := p.Context.FieldByName("sk")
	if sk.Target == nil || sk.Target.Name != "bpf_sock" {
		t.Fatalf("__sk_buff.sk target %v", sk.Target)
	}
	if _, err := sk.Target.Check(8, 4, false); err == nil {
		t.Error("sock_common exposes type")
	}
	if _, err := sk.Target.Check(4, 4, false); err != nil {
		t.Errorf("sock_common family: %v", err)
	}
	if _, err := sk.Target.Check(4, 4, true); err == nil {
		t.Error("socket pointers are writable")
	}
	fd, _ := a.Lookup("flow_dissector")
	fk, _ := fd.Context.FieldByName("flow_keys")
	if _, err := fk.Target.Check(16, 8, true); err != nil {
		t.Errorf("flow keys write: %v", err)
	}
	h, _ := a.HelperByID(FnTcpSock)
	if h.RetStruct == nil || h.RetStruct.Name != "bpf_tcp_sock" {
		t.Errorf("bpf_tcp_sock returns %v", h.RetStruct)
	}
	if _, err := h.RetStruct.Check(80, 8, false); err != nil {
		t.Errorf("bytes_received: %v", err)
	}
}

// TestReturnRanges checks the exit ranges Linux enforces.
func TestReturnRanges(t *testing.T) {
	tests := []struct {
		section string
		want    *platform.Range
	}{
		{"xdp", nil}, {"tc", nil}, {"socket", nil}, {"kprobe/x", nil},
		{"cgroup_skb/ingress", &platform.Range{Min: 0, Max: 1}},
		{"cgroup_skb/egress", &platform.Range{Min: 0, Max: 3}},
		{"cgroup/connect4", &platform.Range{Min: 0, Max: 1}},
		{"cgroup/bind6", &platform.Range{Min: 0, Max: 3}},
		{"cgroup/recvmsg4", &platform.Range{Min: 1, Max: 1}},
		{"cgroup/getsockname6", &platform.Range{Min: 1, Max: 1}},
		{"cgroup/sock_create", &platform.Range{Min: 0, Max: 1}},
		{"sockops", &platform.Range{Min: 0, Max: 1}},
		{"cgroup/dev", &platform.Range{Min: 0, Max: 1}},
		{"cgroup/sysctl", &platform.Range{Min: 0, Max: 1}},
		{"cgroup/getsockopt", &platform.Range{Min: 0, Max: 1}},
		{"sk_lookup", &platform.Range{Min: 0, Max: 1}},
		{"fentry/x", &platform.Range{Min: 0, Max: 0}},
		{"fmod_ret/x", nil},
		{"netfilter", &platform.Range{Min: 0, Max: 1}},
		{"bpfhost", nil},
	}
	a := testABI(t)
	for _, tt := range tests {
		p, _ := a.Lookup(tt.section)
		switch {
		case (p.Return == nil) != (tt.want == nil):
			t.Errorf("%s: return %v, want %v", p, p.Return, tt.want)
		case p.Return != nil && *p.Return != *tt.want:
			t.Errorf("%s: return %s, want %s", p, p.Return, tt.want)
		}
	}
	g, _ := a.Lookup("bpfhost")
	if g.Context != nil || len(g.EntryRegs()) != 2 || g.EntryRegs()[1] != platform.RegPacketLength || !g.Hosted() {
		t.Errorf("generic entry %v", g.EntryRegs())
	}
	x, _ := a.Lookup("xdp")
	if len(x.EntryRegs()) != 1 || x.EntryRegs()[0] != platform.RegContext {
		t.Errorf("xdp entry %v", x.EntryRegs())
	}
}
