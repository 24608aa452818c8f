package linux

import (
	"bufio"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/platform"
)

// headerHelpers reads enum bpf_func_id from the installed linux/bpf.h. Old
// headers list FN(name) in order; newer ones give FN(name, id, ##ctx).
func headerHelpers(t *testing.T) map[string]int {
	t.Helper()
	f, err := os.Open("/usr/include/linux/bpf.h")
	if err != nil {
		t.Skip("linux/bpf.h not installed (apt-get install linux-libc-dev)")
	}
	defer f.Close()
	fn := regexp.MustCompile(`^\s*FN\(([a-z0-9_]+)(?:,\s*(\d+))?`)
	ids := map[string]int{}
	in, next := false, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#define __BPF_FUNC_MAPPER") || strings.HasPrefix(line, "#define ___BPF_FUNC_MAPPER") {
			in = true
			continue
		}
		if !in {
			continue
		}
		m := fn.FindStringSubmatch(line)
		if m == nil {
			if !strings.HasSuffix(strings.TrimSpace(line), "\\") {
				break // the macro ended
			}
			continue
		}
		id := next
		if m[2] != "" {
			id, _ = strconv.Atoi(m[2])
		}
		ids[m[1]] = id
		next = id + 1
	}
	if len(ids) < 100 {
		t.Fatalf("parsed only %d helpers from linux/bpf.h", len(ids))
	}
	return ids
}

func TestHelperIDsMatchHeader(t *testing.T) {
	ids := headerHelpers(t)
	a := testABI(t)
	matched := 0
	for name, id := range ids {
		if name == "unspec" {
			continue
		}
		h, ok := a.HelperByID(platform.HelperID(id))
		if !ok {
			t.Errorf("bpf.h helper %s (%d) has no prototype", name, id)
			continue
		}
		if h.Name != "bpf_"+name {
			t.Errorf("helper %d is %s in bpf.h, %s here", id, name, h.Name)
		}
		matched++
	}
	t.Logf("%d helpers match linux/bpf.h; %d prototypes in all", matched, len(a.Helpers()))
}

func TestHelperTable(t *testing.T) {
	a := testABI(t)
	if len(helperProtos) != len(helperNames)-1 {
		t.Errorf("%d prototypes for %d helpers", len(helperProtos), len(helperNames)-1)
	}
	for i, h := range helperProtos {
		if int(h.ID) != i+1 {
			t.Errorf("prototype %d has ID %d: the table must be in ID order", i, h.ID)
		}
	}
	if _, ok := a.HelperByID(FnUnspec); ok {
		t.Error("helper 0 has a prototype")
	}
	if HelperName(FnXdpAdjustHead) != "bpf_xdp_adjust_head" || HelperName(500) != "helper#500" {
		t.Error("HelperName")
	}

	// Linux's bpf_helper_changes_pkt_data list.
	changes := set(FnSkbVlanPush, FnSkbVlanPop, FnSkbStoreBytes, FnSkbChangeProto, FnSkbChangeHead,
		FnSkbChangeTail, FnSkbAdjustRoom, FnSkbPullData, FnCloneRedirect, FnL3CsumReplace,
		FnL4CsumReplace, FnXdpAdjustHead, FnXdpAdjustMeta, FnMsgPullData, FnMsgPushData,
		FnMsgPopData, FnXdpAdjustTail, FnLwtSeg6StoreBytes, FnLwtSeg6AdjustSrh, FnLwtSeg6Action,
		FnStoreHdrOpt, FnLwtPushEncap)
	for _, h := range a.Helpers() {
		if h.ChangesPacket != changes.Has(h.ID) {
			t.Errorf("%s: ChangesPacket = %v", h, h.ChangesPacket)
		}
	}

	a2 := args
	tests := []struct {
		name string
		args []platform.ArgKind
		ret  platform.RetKind
	}{
		{"map_lookup_elem", a2(mapPtr, mapKey), platform.RetMapValueOrNull},
		{"map_update_elem", a2(mapPtr, mapKey, mapValue, anything), integer},
		{"map_delete_elem", a2(mapPtr, mapKey), integer},
		{"map_push_elem", a2(mapPtr, mapValue, anything), integer},
		{"map_pop_elem", a2(mapPtr, uninitValue), integer},
		{"map_peek_elem", a2(mapPtr, uninitValue), integer},
		{"map_lookup_percpu_elem", a2(mapPtr, mapKey, anything), platform.RetMapValueOrNull},
		{"for_each_map_elem", a2(mapPtr, fn, stackOrNil, anything), integer},
		{"loop", a2(anything, fn, stackOrNil, anything), integer},
		{"tail_call", a2(ctx, mapPtr, anything), void},
		{"ktime_get_ns", nil, integer},
		{"ktime_get_boot_ns", nil, integer},
		{"ktime_get_coarse_ns", nil, integer},
		{"ktime_get_tai_ns", nil, integer},
		{"jiffies64", nil, integer},
		{"get_prandom_u32", nil, integer},
		{"get_smp_processor_id", nil, integer},
		{"get_numa_node_id", nil, integer},
		{"trace_printk", a2(mem, size), integer},
		{"snprintf", a2(wmemOrNil, sizeOr0, constStr, memOrNil, sizeOr0), integer},
		{"strncmp", a2(mem, size, constStr), integer},
		{"strtol", a2(mem, size, anything, long), integer},
		{"strtoul", a2(mem, size, anything, long), integer},
		{"csum_diff", a2(memOrNil, sizeOr0, memOrNil, sizeOr0, anything), integer},
		{"ringbuf_output", a2(mapPtr, mem, sizeOr0, anything), integer},
		{"ringbuf_reserve", a2(mapPtr, allocSize, anything), platform.RetRingbufMemOrNull},
		{"ringbuf_submit", a2(ringbufMem, anything), void},
		{"ringbuf_discard", a2(ringbufMem, anything), void},
		{"ringbuf_query", a2(mapPtr, anything), integer},
		{"perf_event_output", a2(ctx, mapPtr, anything, mem, sizeOr0), integer},
		{"get_current_pid_tgid", nil, integer},
		{"get_current_uid_gid", nil, integer},
		{"get_current_comm", a2(umem, size), integer},
		{"probe_read", a2(umem, sizeOr0, address), integer},
		{"probe_read_kernel", a2(umem, sizeOr0, address), integer},
		{"probe_read_user", a2(umem, sizeOr0, address), integer},
		{"probe_read_str", a2(umem, sizeOr0, address), integer},
		{"probe_read_kernel_str", a2(umem, sizeOr0, address), integer},
		{"probe_read_user_str", a2(umem, sizeOr0, address), integer},
		{"spin_lock", a2(spinLock), void},
		{"spin_unlock", a2(spinLock), void},
		{"xdp_adjust_head", a2(ctx, anything), integer},
		{"xdp_adjust_tail", a2(ctx, anything), integer},
		{"xdp_adjust_meta", a2(ctx, anything), integer},
		{"redirect", a2(anything, anything), integer},
		{"redirect_map", a2(mapPtr, anything, anything), integer},
		{"skb_load_bytes", a2(ctx, anything, umem, size), integer},
		{"skb_store_bytes", a2(ctx, anything, mem, size, anything), integer},
		{"l3_csum_replace", a2(ctx, anything, anything, anything, anything), integer},
		{"l4_csum_replace", a2(ctx, anything, anything, anything, anything), integer},
		{"get_hash_recalc", a2(ctx), integer},
		{"skb_change_proto", a2(ctx, anything, anything), integer},
		{"skb_change_type", a2(ctx, anything), integer},
		{"skb_vlan_push", a2(ctx, anything, anything), integer},
		{"skb_vlan_pop", a2(ctx), integer},
		{"clone_redirect", a2(ctx, anything, anything), integer},
		{"get_cgroup_classid", a2(ctx), integer},
		{"skb_get_tunnel_key", a2(ctx, umem, size, anything), integer},
		{"get_socket_cookie", a2(ctx), integer},
		{"get_current_task", nil, integer},
		{"timer_init", a2(timer, mapPtr, anything), integer},
		{"timer_set_callback", a2(timer, fn), integer},
		{"timer_start", a2(timer, anything, anything), integer},
		{"timer_cancel", a2(timer), integer},
		{"fib_lookup", a2(ctx, wmem, size, anything), integer},
		{"xdp_load_bytes", a2(ctx, anything, umem, size), integer},
		{"check_mtu", a2(ctx, anything, intPtr, anything, anything), integer},
		{"sk_lookup_tcp", a2(ctx, mem, size, anything, anything), platform.RetSocketOrNull},
		{"sk_release", a2(btfSock), integer},
	}
	for _, tt := range tests {
		h, ok := HelperByName(tt.name)
		if !ok {
			t.Errorf("%s: no prototype", tt.name)
			continue
		}
		var want [5]platform.ArgKind
		copy(want[:], tt.args)
		if h.Args != want || h.Ret != tt.ret {
			t.Errorf("%s: args %v ret %s, want %v ret %s", h, h.Args, h.Ret, want, tt.ret)
		}
	}
	for name, kind := range map[string]platform.CallbackKind{
		"loop": platform.CallbackLoop, "for_each_map_elem": platform.CallbackForEachMapElem,
		"timer_set_callback": platform.CallbackTimer, "user_ringbuf_drain": platform.CallbackUserRingbufDrain,
	} {
		if h, _ := HelperByName(name); h.Callback != kind {
			t.Errorf("%s: callback %s, want %s", name, h.Callback, kind)
		}
	}
	for name, rel := range map[string]int{"ringbuf_submit": 1, "ringbuf_discard": 1, "sk_release": 1} {
		if h, _ := HelperByName(name); h.Release != rel {
			t.Errorf("%s releases %d, want %d", name, h.Release, rel)
		}
	}
	for _, name := range []string{"ringbuf_reserve", "sk_lookup_tcp", "sk_lookup_udp", "skc_lookup_tcp"} {
		if h, _ := HelperByName(name); !h.Acquire {
			t.Errorf("%s does not acquire", name)
		}
	}
	for _, name := range []string{"get_current_task", "probe_read_kernel", "d_path", "task_storage_get"} {
		if h, _ := HelperByName(name); !h.KernelOnly {
			t.Errorf("%s is not kernel-only", name)
		}
	}
}

// TestHelperSets spot-checks which program types may call which helpers.
func TestHelperSets(t *testing.T) {
	tests := []struct {
		section string
		allowed []platform.HelperID
		denied  []platform.HelperID
	}{
		{"xdp", []platform.HelperID{FnXdpAdjustHead, FnXdpAdjustTail, FnXdpAdjustMeta, FnRedirectMap, FnCsumDiff, FnMapLookupElem, FnFibLookup, FnRingbufOutput, FnLoop},
			[]platform.HelperID{FnSkbStoreBytes, FnSkbLoadBytes, FnGetCurrentComm, FnL3CsumReplace}},
		{"tc", []platform.HelperID{FnSkbStoreBytes, FnL3CsumReplace, FnL4CsumReplace, FnSkbVlanPush, FnSkbChangeProto, FnRedirect, FnCloneRedirect, FnGetHashRecalc, FnSkbGetTunnelKey, FnGetCgroupClassid},
			[]platform.HelperID{FnXdpAdjustHead, FnRedirectMap, FnGetCurrentComm}},
		{"socket", []platform.HelperID{FnSkbLoadBytes, FnGetSocketCookie, FnGetSocketUid, FnPerfEventOutput},
			[]platform.HelperID{FnSkbStoreBytes, FnRedirect, FnXdpAdjustHead}},
		{"cgroup_skb/egress", []platform.HelperID{FnSkbLoadBytes, FnSkFullsock, FnGetLocalStorage},
			[]platform.HelperID{FnSkbStoreBytes}},
		{"cgroup/connect4", []platform.HelperID{FnBind, FnGetCurrentUidGid, FnSetsockopt}, []platform.HelperID{FnSkbLoadBytes}},
		{"cgroup/bind4", []platform.HelperID{FnSetsockopt}, []platform.HelperID{FnBind}},
		{"cgroup/connect_unix", nil, []platform.HelperID{FnBind, FnSetsockopt}},
		{"cgroup/setsockopt", []platform.HelperID{FnSetsockopt, FnGetsockopt}, nil},
		{"cgroup/getsockopt", nil, []platform.HelperID{FnSetsockopt, FnGetsockopt}},
		{"kprobe/foo", []platform.HelperID{FnProbeReadKernel, FnGetCurrentTask, FnGetStackid, FnOverrideReturn, FnPerfEventOutput},
			[]platform.HelperID{FnSkbLoadBytes, FnXdpAdjustHead}},
		{"fentry/foo", []platform.HelperID{FnGetFuncArg, FnDPath}, []platform.HelperID{FnOverrideReturn}},
		{"syscall", []platform.HelperID{FnSysBpf}, nil},
		{"cgroup/sysctl", []platform.HelperID{FnSysctlGetName, FnStrtol}, nil},
		{"lirc_mode2", []platform.HelperID{FnRcKeydown, FnMapLookupElem}, []platform.HelperID{FnRingbufOutput}},
		{"bpfhost", []platform.HelperID{FnMapLookupElem, FnLoop, FnRingbufReserve, FnKtimeGetNs, FnTracePrintk},
			[]platform.HelperID{FnGetCurrentTask, FnProbeReadKernel, FnSkbLoadBytes}},
	}
	a := testABI(t)
	for _, tt := range tests {
		p, ok := a.Lookup(tt.section)
		if !ok {
			t.Fatalf("%s: no program type", tt.section)
		}
		for _, id := range tt.allowed {
			if !p.Helpers.Has(id) {
				t.Errorf("%s may not call %s", p, HelperName(id))
			}
		}
		for _, id := range tt.denied {
			if p.Helpers.Has(id) {
				t.Errorf("%s may call %s", p, HelperName(id))
			}
		}
	}
}

func TestMapTypes(t *testing.T) {
	a := testABI(t)
	if len(a.MapTypes()) != int(MapArena)+1 {
		t.Errorf("%d map types, want %d", len(a.MapTypes()), MapArena+1)
	}
	for i, m := range a.MapTypes() {
		if int(m.Type) != i {
			t.Errorf("map type %s at index %d", m, i)
		}
		if (m.Ops&platform.MapLookup != 0) != (m.Lookup != platform.LookupNotAllowed) {
			t.Errorf("%s: ops %s, lookup %s", m, m.Ops, m.Lookup)
		}
	}
	tests := []struct {
		typ    platform.MapType
		name   string
		ops    platform.MapOps
		lookup platform.LookupResult
		key    int
		keyOK  bool
	}{
		{MapHash, "hash", platform.MapLookup | platform.MapUpdate | platform.MapDelete, platform.LookupValue, 13, true},
		{MapArray, "array", platform.MapLookup, platform.LookupValue, 8, false},
		{MapQueue, "queue", platform.MapPush | platform.MapPop | platform.MapPeek, platform.LookupNotAllowed, 0, true},
		{MapStack, "stack", platform.MapPop, platform.LookupNotAllowed, 4, false},
		{MapBloomFilter, "bloom_filter", platform.MapPush | platform.MapPeek, platform.LookupNotAllowed, 0, true},
		{MapHashOfMaps, "hash_of_maps", platform.MapLookup, platform.LookupInnerMap, 4, true},
		{MapArrayOfMaps, "array_of_maps", platform.MapLookup, platform.LookupInnerMap, 4, true},
		{MapRingBuf, "ringbuf", platform.MapRingbuf, platform.LookupNotAllowed, 0, true},
		{MapProgArray, "prog_array", platform.MapTailCall, platform.LookupNotAllowed, 4, true},
		{MapPercpuArray, "percpu_array", platform.MapLookupPercpu, platform.LookupValue, 4, true},
		{MapSockHash, "sockhash", platform.MapRedirect, platform.LookupSocket, 8, true},
		{MapDevMap, "devmap", platform.MapRedirect, platform.LookupValue, 4, true},
	}
	for _, tt := range tests {
		m, ok := MapTypeInfo(tt.typ)
		if !ok || m.Name != tt.name || m.Ops&tt.ops != tt.ops || m.Lookup != tt.lookup || m.KeySizeOK(tt.key) != tt.keyOK {
			t.Errorf("map type %d: %+v", tt.typ, m)
		}
	}
	if MapTypeName(MapLRUHash) != "lru_hash" {
		t.Error("MapTypeName")
	}
	if m, _ := MapTypeInfo(MapPercpuHash); !m.PerCPU || m.Ops&platform.MapTimer != 0 {
		t.Error("percpu_hash: per-CPU without timers")
	}
}
