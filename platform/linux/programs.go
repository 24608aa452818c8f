package linux

import "github.com/bpfhost/bpfhost/platform"

// Return ranges the Linux verifier enforces (check_return_code).
var (
	zeroOrOne   = &platform.Range{Min: 0, Max: 1}
	zeroToThree = &platform.Range{Min: 0, Max: 3}
	onlyOne     = &platform.Range{Min: 1, Max: 1}
	onlyZero    = &platform.Range{Min: 0, Max: 0}
)

// Packet access modes.
const (
	pktNone = platform.Access(0)
	pktR    = platform.Read
	pktRW   = platform.Read | platform.Write
)

// sec is one row of the section table before it is tied to its program.
type sec struct {
	pattern string
	flags   platform.SectionFlags
}

const (
	sleepable = platform.SectionSleepable
	frags     = platform.SectionXDPFrags
	attachBTF = platform.SectionAttachBTF
)

// prog is one row of the program table.
type prog struct {
	info     platform.ProgramTypeInfo
	sections []sec
}

func secs(patterns ...string) []sec {
	s := make([]sec, len(patterns))
	for i, p := range patterns {
		s[i] = sec{pattern: p}
	}
	return s
}

// attachVariant fills the attach fields of a variant.
func attachVariant(info platform.ProgramTypeInfo, attach AttachType, variant string) platform.ProgramTypeInfo {
	info.Attach = attach
	info.AttachName = AttachTypeName(attach)
	info.Variant = variant
	return info
}

// programTable lists every program type variant with the ELF sections that
// select it (libbpf's section_defs). The first variant of a type is its
// default for ByName.
func programTable() []prog {
	var t []prog
	add := func(info platform.ProgramTypeInfo, s ...sec) {
		switch info.Type {
		case Kprobe, Tracepoint, PerfEvent, RawTracepoint, RawTracepointWritable: // is_tracing_prog_type
			info.NoLockMaps, info.NoTimerMaps = true, true
		case SocketFilter:
			info.NoLockMaps = true
		}
		t = append(t, prog{info, s})
	}

	skb := func(typ ProgramType, name string, pol skbPolicy, helpers platform.HelperSet, pkt platform.Access) platform.ProgramTypeInfo {
		return platform.ProgramTypeInfo{Type: typ, Name: name, Context: skBuff(pol), Helpers: helpers,
			PacketAccess: pkt, TestRun: platform.TestRunSKB}
	}

	add(platform.ProgramTypeInfo{Type: SocketFilter, Name: "socket_filter", Context: skBuff(skbSocketFilter),
		Helpers: socketFilterHelpers, TestRun: platform.TestRunSKB,
		Doc: "r0 is the number of bytes to keep (0 drops the packet)"}, secs("socket")...)

	kprobe := platform.ProgramTypeInfo{Type: Kprobe, Name: "kprobe", Context: ptRegs, Helpers: kprobeHelpers,
		Doc: "kprobes, uprobes, USDT and syscall probes; the context is x86-64 pt_regs"}
	add(kprobe, sec{"kprobe+", 0}, sec{"kretprobe+", 0}, sec{"uprobe+", 0}, sec{"uprobe.s+", sleepable},
		sec{"uretprobe+", 0}, sec{"uretprobe.s+", sleepable}, sec{"ksyscall+", 0}, sec{"kretsyscall+", 0},
		sec{"usdt+", 0}, sec{"usdt.s+", sleepable})
	add(attachVariant(kprobe, AttachTraceKprobeMulti, "kprobe.multi"), secs("kprobe.multi+", "kretprobe.multi+")...)
	add(attachVariant(kprobe, AttachTraceUprobeMulti, "uprobe.multi"), sec{"uprobe.multi+", 0},
		sec{"uretprobe.multi+", 0}, sec{"uprobe.multi.s+", sleepable}, sec{"uretprobe.multi.s+", sleepable})
	// Session probes run at entry and return; at entry r0 says whether the
	// return probe runs (0) or not (1), which Linux checks.
	kSession := attachVariant(kprobe, AttachTraceKprobeSession, "kprobe.session")
	kSession.Return = zeroOrOne
	add(kSession, secs("kprobe.session+")...)
	uSession := attachVariant(kprobe, AttachTraceUprobeSession, "uprobe.session")
	uSession.Return = zeroOrOne
	add(uSession, sec{"uprobe.session+", 0}, sec{"uprobe.session.s+", sleepable})

	cls := skb(SchedCLS, "sched_cls", skbTC, tcHelpers, pktRW)
	cls.Doc = "r0 is a TC_ACT_* verdict (TCX_* for tcx and netkit)"
	add(cls, secs("tc", "classifier")...)
	add(attachVariant(cls, AttachTCXIngress, "tcx_ingress"), secs("tc/ingress", "tcx/ingress")...)
	add(attachVariant(cls, AttachTCXEgress, "tcx_egress"), secs("tc/egress", "tcx/egress")...)
	add(attachVariant(cls, AttachNetkitPrimary, "netkit_primary"), secs("netkit/primary")...)
	add(attachVariant(cls, AttachNetkitPeer, "netkit_peer"), secs("netkit/peer")...)
	act := skb(SchedACT, "sched_act", skbTC, tcHelpers, pktRW)
	add(act, secs("action")...)

	add(platform.ProgramTypeInfo{Type: Tracepoint, Name: "tracepoint", Context: tracepointCtx, Helpers: tracepointHelpers},
		secs("tracepoint+", "tp+")...)

	xdp := platform.ProgramTypeInfo{Type: XDP, Name: "xdp", Attach: AttachXDP, AttachName: AttachTypeName(AttachXDP),
		Context: xdpMD(false), Helpers: xdpHelpers, PacketAccess: pktRW, TestRun: platform.TestRunXDP,
		Doc: "r0 is an XDP_* action; Linux does not check its range"}
	add(xdp, sec{"xdp", 0}, sec{"xdp.frags", frags})
	devmap := attachVariant(xdp, AttachXDPDevMap, "devmap")
	devmap.Context = xdpMD(true)
	add(devmap, sec{"xdp/devmap", 0}, sec{"xdp.frags/devmap", frags})
	add(attachVariant(xdp, AttachXDPCPUMap, "cpumap"), sec{"xdp/cpumap", 0}, sec{"xdp.frags/cpumap", frags})

	add(platform.ProgramTypeInfo{Type: PerfEvent, Name: "perf_event", Context: perfEventData, Helpers: perfEventHelpers},
		secs("perf_event")...)

	cgSKB := skb(CGroupSKB, "cgroup_skb", skbCGroup, cgroupSKBHelpers, pktR)
	cgSKB.Return = zeroOrOne
	cgSKB.Doc = "r0 is 1 to allow the packet, 0 to drop it; egress programs may add 2 (congestion notification)"
	add(attachVariant(cgSKB, AttachCGroupInetIngress, "ingress"), secs("cgroup_skb/ingress", "cgroup/skb")...)
	egress := attachVariant(cgSKB, AttachCGroupInetEgress, "egress")
	egress.Return = zeroToThree
	add(egress, secs("cgroup_skb/egress")...)

	for _, v := range []struct {
		attach  AttachType
		variant string
		s       []sec
	}{
		{AttachCGroupInetSockCreate, "sock_create", secs("cgroup/sock_create", "cgroup/sock")},
		{AttachCGroupInetSockRelease, "sock_release", secs("cgroup/sock_release")},
		{AttachCGroupInet4PostBind, "post_bind4", secs("cgroup/post_bind4")},
		{AttachCGroupInet6PostBind, "post_bind6", secs("cgroup/post_bind6")},
	} {
		add(attachVariant(platform.ProgramTypeInfo{Type: CGroupSock, Name: "cgroup_sock", Context: cgroupSock(v.attach),
			Helpers: cgroupSockHelpers, Protos: cgroupSockProtos, Return: zeroOrOne}, v.attach, v.variant), v.s...)
	}

	add(skb(LWTIn, "lwt_in", skbLWT, lwtInHelpers, pktR), secs("lwt_in")...)
	add(skb(LWTOut, "lwt_out", skbLWT, lwtOutHelpers, pktR), secs("lwt_out")...)
	add(skb(LWTXmit, "lwt_xmit", skbLWT, lwtXmitHelpers, pktRW), secs("lwt_xmit")...)

	add(attachVariant(platform.ProgramTypeInfo{Type: SockOps, Name: "sock_ops", Context: sockOps, Helpers: sockOpsHelpers,
		PacketAccess: pktR, Return: zeroOrOne}, AttachCGroupSockOps, ""), secs("sockops")...)

	skSKB := platform.ProgramTypeInfo{Type: SkSKB, Name: "sk_skb", Context: skBuff(skbSkSKB), Helpers: skSKBHelpers, PacketAccess: pktRW}
	add(skSKB, secs("sk_skb")...)
	add(attachVariant(skSKB, AttachSkSKBStreamParser, "stream_parser"), secs("sk_skb/stream_parser")...)
	add(attachVariant(skSKB, AttachSkSKBStreamVerdict, "stream_verdict"), secs("sk_skb/stream_verdict")...)
	add(attachVariant(skSKB, AttachSkSKBVerdict, "verdict"), secs("sk_skb/verdict")...)

	add(attachVariant(platform.ProgramTypeInfo{Type: CGroupDevice, Name: "cgroup_device", Context: cgroupDev,
		Helpers: cgroupDeviceHelpers, Return: zeroOrOne}, AttachCGroupDevice, ""), secs("cgroup/dev")...)

	add(attachVariant(platform.ProgramTypeInfo{Type: SkMsg, Name: "sk_msg", Context: skMsg, Helpers: skMsgHelpers,
		PacketAccess: pktRW}, AttachSkMsgVerdict, ""), secs("sk_msg")...)

	add(platform.ProgramTypeInfo{Type: RawTracepoint, Name: "raw_tracepoint", Context: rawTracepointArgs,
		Helpers: rawTracepointHelpers, TestRun: platform.TestRunRawTracepoint}, secs("raw_tracepoint+", "raw_tp+")...)

	sockAddrVariants := []struct {
		attach  AttachType
		variant string
	}{
		{AttachCGroupInet4Connect, "connect4"}, {AttachCGroupInet6Connect, "connect6"},
		{AttachCGroupUnixConnect, "connect_unix"},
		{AttachCGroupInet4Bind, "bind4"}, {AttachCGroupInet6Bind, "bind6"},
		{AttachCGroupUDP4Sendmsg, "sendmsg4"}, {AttachCGroupUDP6Sendmsg, "sendmsg6"},
		{AttachCGroupUnixSendmsg, "sendmsg_unix"},
		{AttachCGroupUDP4Recvmsg, "recvmsg4"}, {AttachCGroupUDP6Recvmsg, "recvmsg6"},
		{AttachCGroupUnixRecvmsg, "recvmsg_unix"},
		{AttachCGroupInet4Getpeername, "getpeername4"}, {AttachCGroupInet6Getpeername, "getpeername6"},
		{AttachCGroupUnixGetpeername, "getpeername_unix"},
		{AttachCGroupInet4Getsockname, "getsockname4"}, {AttachCGroupInet6Getsockname, "getsockname6"},
		{AttachCGroupUnixGetsockname, "getsockname_unix"},
	}
	for _, v := range sockAddrVariants {
		info := attachVariant(platform.ProgramTypeInfo{Type: CGroupSockAddr, Name: "cgroup_sock_addr",
			Context: sockAddr(v.attach), Helpers: sockAddrHelpers(v.attach), Return: zeroOrOne,
			Doc: "r0 is 1 to allow the operation, 0 to refuse it"}, v.attach, v.variant)
		switch v.attach {
		case AttachCGroupInet4Bind, AttachCGroupInet6Bind:
			info.Return = zeroToThree
			info.Doc = "r0 bit 0 allows the bind, bit 1 skips the port capability check"
		case AttachCGroupUDP4Recvmsg, AttachCGroupUDP6Recvmsg, AttachCGroupUnixRecvmsg,
			AttachCGroupInet4Getpeername, AttachCGroupInet6Getpeername, AttachCGroupUnixGetpeername,
			AttachCGroupInet4Getsockname, AttachCGroupInet6Getsockname, AttachCGroupUnixGetsockname:
			info.Return = onlyOne
			info.Doc = "these hooks may rewrite the address but not refuse: r0 must be 1"
		}
		add(info, secs("cgroup/"+v.variant)...)
	}

	add(skb(LWTSeg6Local, "lwt_seg6local", skbLWT, lwtSeg6LocalHelpers, pktR), secs("lwt_seg6local")...)

	add(attachVariant(platform.ProgramTypeInfo{Type: LircMode2, Name: "lirc_mode2", Context: lircSample,
		Helpers: lircMode2Helpers}, AttachLircMode2, ""), secs("lirc_mode2")...)

	reuse := attachVariant(platform.ProgramTypeInfo{Type: SkReuseport, Name: "sk_reuseport", Context: skReuseport,
		Helpers: skReuseportHelpers, PacketAccess: pktR}, AttachSkReuseportSelect, "select")
	add(reuse, secs("sk_reuseport")...)
	add(attachVariant(reuse, AttachSkReuseportSelectOrMigrate, "migrate"), secs("sk_reuseport/migrate")...)

	add(attachVariant(platform.ProgramTypeInfo{Type: FlowDissector, Name: "flow_dissector", Context: skBuff(skbFlowDissector),
		Helpers: flowDissectorHelpers, PacketAccess: pktR, TestRun: platform.TestRunFlowDissector,
		Doc: "r0 is BPF_OK or BPF_DROP; the result goes into flow_keys"}, AttachFlowDissector, ""), secs("flow_dissector")...)

	add(attachVariant(platform.ProgramTypeInfo{Type: CGroupSysctl, Name: "cgroup_sysctl", Context: sysctlCtx,
		Helpers: cgroupSysctlHelpers, Return: zeroOrOne}, AttachCGroupSysctl, ""), secs("cgroup/sysctl")...)

	add(platform.ProgramTypeInfo{Type: RawTracepointWritable, Name: "raw_tracepoint_writable",
		Context: rawTracepointWritableArgs, Helpers: rawTracepointHelpers}, secs("raw_tracepoint.w+", "raw_tp.w+")...)

	for _, v := range []struct {
		attach  AttachType
		variant string
	}{{AttachCGroupGetsockopt, "getsockopt"}, {AttachCGroupSetsockopt, "setsockopt"}} {
		helpers := cgroupSockoptHelpers
		if v.attach == AttachCGroupSetsockopt {
			helpers = helpers.Union(set(FnSetsockopt, FnGetsockopt))
		}
		add(attachVariant(platform.ProgramTypeInfo{Type: CGroupSockopt, Name: "cgroup_sockopt", Context: sockopt(v.attach),
			Helpers: helpers, Return: zeroOrOne, PacketAccess: pktRW}, v.attach, v.variant), secs("cgroup/"+v.variant)...)
	}

	tracing := platform.ProgramTypeInfo{Type: Tracing, Name: "tracing", Context: btfArgs, Helpers: btfTracingHelpers,
		TestRun: platform.TestRunTracing}
	fentry := attachVariant(tracing, AttachTraceFEntry, "fentry")
	fentry.Return = onlyZero
	add(fentry, sec{"fentry+", attachBTF}, sec{"fentry.s+", attachBTF | sleepable})
	fexit := attachVariant(tracing, AttachTraceFExit, "fexit")
	fexit.Return = onlyZero
	add(fexit, sec{"fexit+", attachBTF}, sec{"fexit.s+", attachBTF | sleepable})
	add(attachVariant(tracing, AttachModifyReturn, "fmod_ret"), sec{"fmod_ret+", attachBTF}, sec{"fmod_ret.s+", attachBTF | sleepable})
	tpBTF := attachVariant(tracing, AttachTraceRawTp, "tp_btf")
	tpBTF.TestRun = platform.TestRunNone
	add(tpBTF, sec{"tp_btf+", attachBTF})
	iter := attachVariant(tracing, AttachTraceIter, "iter")
	iter.Return = zeroOrOne
	iter.TestRun = platform.TestRunNone
	add(iter, sec{"iter+", attachBTF}, sec{"iter.s+", attachBTF | sleepable})

	add(platform.ProgramTypeInfo{Type: StructOps, Name: "struct_ops", Context: btfArgs, Helpers: structOpsHelpers,
		Doc: "the expected attach type is the member index; helpers approximate tcp_congestion_ops"},
		sec{"struct_ops+", 0}, sec{"struct_ops.s+", sleepable})

	add(platform.ProgramTypeInfo{Type: Extension, Name: "ext", Context: btfArgs, Helpers: baseHelpers,
		Doc: "freplace programs take the replaced function's context and helpers; modelled as BTF arguments and base helpers"},
		sec{"freplace+", attachBTF})

	lsm := attachVariant(platform.ProgramTypeInfo{Type: LSM, Name: "lsm", Context: btfArgs, Helpers: lsmHelpers,
		Doc: "r0 is the hook's return value (0 or -errno)"}, AttachLSMMac, "")
	add(lsm, sec{"lsm+", attachBTF}, sec{"lsm.s+", attachBTF | sleepable})
	lsmCgroup := attachVariant(lsm, AttachLSMCGroup, "cgroup")
	lsmCgroup.Return = zeroOrOne
	add(lsmCgroup, sec{"lsm_cgroup+", attachBTF})

	add(attachVariant(platform.ProgramTypeInfo{Type: SkLookup, Name: "sk_lookup", Context: skLookup, Helpers: skLookupHelpers,
		Return: zeroOrOne, TestRun: platform.TestRunSKLookup, Doc: "r0 is SK_PASS (1) or SK_DROP (0)"}, AttachSkLookup, ""),
		secs("sk_lookup")...)

	add(platform.ProgramTypeInfo{Type: Syscall, Name: "syscall", Context: syscallCtx, Helpers: syscallHelpers,
		TestRun: platform.TestRunSyscall}, sec{"syscall", sleepable})

	add(attachVariant(platform.ProgramTypeInfo{Type: Netfilter, Name: "netfilter", Context: nfCtx, Helpers: baseHelpers,
		Return: zeroOrOne, TestRun: platform.TestRunNetfilter, Doc: "r0 is NF_DROP (0) or NF_ACCEPT (1)"}, AttachNetfilter, ""),
		secs("netfilter")...)

	add(platform.ProgramTypeInfo{Type: Generic, Name: "bpfhost_generic",
		Entry:   []platform.RegKind{platform.RegPacketData, platform.RegPacketLength},
		Helpers: genericHelpers, PacketAccess: pktRW, TestRun: platform.TestRunBuffer,
		Doc: "bpfhost's embedding type: r1 points to a buffer of r2 bytes that the program may read and write; r0 is returned to the caller"},
		secs("bpfhost+")...)
	return t
}

// sockAddrHelpers adds the attach-type dependent helpers of
// sock_addr_func_proto, and cgroup_common_func_proto's bpf_get_retval and
// bpf_set_retval, which recvmsg, getpeername and getsockname programs do
// not get.
func sockAddrHelpers(attach AttachType) platform.HelperSet {
	s := sockAddrBaseHelpers
	switch attach {
	case AttachCGroupUDP4Recvmsg, AttachCGroupUDP6Recvmsg, AttachCGroupUnixRecvmsg,
		AttachCGroupInet4Getpeername, AttachCGroupInet6Getpeername, AttachCGroupUnixGetpeername,
		AttachCGroupInet4Getsockname, AttachCGroupInet6Getsockname, AttachCGroupUnixGetsockname:
	default:
		s = s.Union(set(FnGetRetval, FnSetRetval))
	}
	switch attach {
	case AttachCGroupInet4Connect, AttachCGroupInet6Connect:
		s = s.Union(set(FnBind, FnSetsockopt, FnGetsockopt))
	case AttachCGroupUnixConnect, AttachCGroupUnixSendmsg, AttachCGroupUnixRecvmsg,
		AttachCGroupUnixGetpeername, AttachCGroupUnixGetsockname:
	default:
		s = s.Union(set(FnSetsockopt, FnGetsockopt))
	}
	return s
}
