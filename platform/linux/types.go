package linux

import "github.com/bpfhost/bpfhost/platform"

// Program types, numbered as enum bpf_prog_type.
const (
	UnspecProgramType     ProgramType = 0 // not a loadable type
	SocketFilter          ProgramType = 1
	Kprobe                ProgramType = 2
	SchedCLS              ProgramType = 3
	SchedACT              ProgramType = 4
	Tracepoint            ProgramType = 5
	XDP                   ProgramType = 6
	PerfEvent             ProgramType = 7
	CGroupSKB             ProgramType = 8
	CGroupSock            ProgramType = 9
	LWTIn                 ProgramType = 10
	LWTOut                ProgramType = 11
	LWTXmit               ProgramType = 12
	SockOps               ProgramType = 13
	SkSKB                 ProgramType = 14
	CGroupDevice          ProgramType = 15
	SkMsg                 ProgramType = 16
	RawTracepoint         ProgramType = 17
	CGroupSockAddr        ProgramType = 18
	LWTSeg6Local          ProgramType = 19
	LircMode2             ProgramType = 20
	SkReuseport           ProgramType = 21
	FlowDissector         ProgramType = 22
	CGroupSysctl          ProgramType = 23
	RawTracepointWritable ProgramType = 24
	CGroupSockopt         ProgramType = 25
	Tracing               ProgramType = 26
	StructOps             ProgramType = 27
	Extension             ProgramType = 28
	LSM                   ProgramType = 29
	SkLookup              ProgramType = 30
	Syscall               ProgramType = 31
	Netfilter             ProgramType = 32

	// Generic is bpfhost's own type for embedding: r1 points to a buffer
	// and r2 holds its length. Linux has no such type; the number is above
	// Linux's range (platform.HostProgramTypeBase).
	Generic ProgramType = platform.HostProgramTypeBase
)

// ProgramType is platform.ProgramType, named here for brevity.
type ProgramType = platform.ProgramType

// AttachType is platform.AttachType, named here for brevity.
type AttachType = platform.AttachType

// Expected attach types, numbered as enum bpf_attach_type.
const (
	AttachCGroupInetIngress          AttachType = 0
	AttachCGroupInetEgress           AttachType = 1
	AttachCGroupInetSockCreate       AttachType = 2
	AttachCGroupSockOps              AttachType = 3
	AttachSkSKBStreamParser          AttachType = 4
	AttachSkSKBStreamVerdict         AttachType = 5
	AttachCGroupDevice               AttachType = 6
	AttachSkMsgVerdict               AttachType = 7
	AttachCGroupInet4Bind            AttachType = 8
	AttachCGroupInet6Bind            AttachType = 9
	AttachCGroupInet4Connect         AttachType = 10
	AttachCGroupInet6Connect         AttachType = 11
	AttachCGroupInet4PostBind        AttachType = 12
	AttachCGroupInet6PostBind        AttachType = 13
	AttachCGroupUDP4Sendmsg          AttachType = 14
	AttachCGroupUDP6Sendmsg          AttachType = 15
	AttachLircMode2                  AttachType = 16
	AttachFlowDissector              AttachType = 17
	AttachCGroupSysctl               AttachType = 18
	AttachCGroupUDP4Recvmsg          AttachType = 19
	AttachCGroupUDP6Recvmsg          AttachType = 20
	AttachCGroupGetsockopt           AttachType = 21
	AttachCGroupSetsockopt           AttachType = 22
	AttachTraceRawTp                 AttachType = 23
	AttachTraceFEntry                AttachType = 24
	AttachTraceFExit                 AttachType = 25
	AttachModifyReturn               AttachType = 26
	AttachLSMMac                     AttachType = 27
	AttachTraceIter                  AttachType = 28
	AttachCGroupInet4Getpeername     AttachType = 29
	AttachCGroupInet6Getpeername     AttachType = 30
	AttachCGroupInet4Getsockname     AttachType = 31
	AttachCGroupInet6Getsockname     AttachType = 32
	AttachXDPDevMap                  AttachType = 33
	AttachCGroupInetSockRelease      AttachType = 34
	AttachXDPCPUMap                  AttachType = 35
	AttachSkLookup                   AttachType = 36
	AttachXDP                        AttachType = 37
	AttachSkSKBVerdict               AttachType = 38
	AttachSkReuseportSelect          AttachType = 39
	AttachSkReuseportSelectOrMigrate AttachType = 40
	AttachPerfEvent                  AttachType = 41
	AttachTraceKprobeMulti           AttachType = 42
	AttachLSMCGroup                  AttachType = 43
	AttachStructOps                  AttachType = 44
	AttachNetfilter                  AttachType = 45
	AttachTCXIngress                 AttachType = 46
	AttachTCXEgress                  AttachType = 47
	AttachTraceUprobeMulti           AttachType = 48
	AttachCGroupUnixConnect          AttachType = 49
	AttachCGroupUnixSendmsg          AttachType = 50
	AttachCGroupUnixRecvmsg          AttachType = 51
	AttachCGroupUnixGetpeername      AttachType = 52
	AttachCGroupUnixGetsockname      AttachType = 53
	AttachNetkitPrimary              AttachType = 54
	AttachNetkitPeer                 AttachType = 55
	AttachTraceKprobeSession         AttachType = 56
	AttachTraceUprobeSession         AttachType = 57
)

// attachNames are libbpf's names for the attach types (libbpf_bpf_attach_type_str).
var attachNames = map[AttachType]string{
	AttachCGroupInetIngress: "cgroup_inet_ingress", AttachCGroupInetEgress: "cgroup_inet_egress",
	AttachCGroupInetSockCreate: "cgroup_inet_sock_create", AttachCGroupSockOps: "cgroup_sock_ops",
	AttachSkSKBStreamParser: "sk_skb_stream_parser", AttachSkSKBStreamVerdict: "sk_skb_stream_verdict",
	AttachCGroupDevice: "cgroup_device", AttachSkMsgVerdict: "sk_msg_verdict",
	AttachCGroupInet4Bind: "cgroup_inet4_bind", AttachCGroupInet6Bind: "cgroup_inet6_bind",
	AttachCGroupInet4Connect: "cgroup_inet4_connect", AttachCGroupInet6Connect: "cgroup_inet6_connect",
	AttachCGroupInet4PostBind: "cgroup_inet4_post_bind", AttachCGroupInet6PostBind: "cgroup_inet6_post_bind",
	AttachCGroupUDP4Sendmsg: "cgroup_udp4_sendmsg", AttachCGroupUDP6Sendmsg: "cgroup_udp6_sendmsg",
	AttachLircMode2: "lirc_mode2", AttachFlowDissector: "flow_dissector", AttachCGroupSysctl: "cgroup_sysctl",
	AttachCGroupUDP4Recvmsg: "cgroup_udp4_recvmsg", AttachCGroupUDP6Recvmsg: "cgroup_udp6_recvmsg",
	AttachCGroupGetsockopt: "cgroup_getsockopt", AttachCGroupSetsockopt: "cgroup_setsockopt",
	AttachTraceRawTp: "trace_raw_tp", AttachTraceFEntry: "trace_fentry", AttachTraceFExit: "trace_fexit",
	AttachModifyReturn: "modify_return", AttachLSMMac: "lsm_mac", AttachTraceIter: "trace_iter",
	AttachCGroupInet4Getpeername: "cgroup_inet4_getpeername", AttachCGroupInet6Getpeername: "cgroup_inet6_getpeername",
	AttachCGroupInet4Getsockname: "cgroup_inet4_getsockname", AttachCGroupInet6Getsockname: "cgroup_inet6_getsockname",
	AttachXDPDevMap: "xdp_devmap", AttachCGroupInetSockRelease: "cgroup_inet_sock_release",
	AttachXDPCPUMap: "xdp_cpumap", AttachSkLookup: "sk_lookup", AttachXDP: "xdp",
	AttachSkSKBVerdict: "sk_skb_verdict", AttachSkReuseportSelect: "sk_reuseport_select",
	AttachSkReuseportSelectOrMigrate: "sk_reuseport_select_or_migrate", AttachPerfEvent: "perf_event",
	AttachTraceKprobeMulti: "trace_kprobe_multi", AttachLSMCGroup: "lsm_cgroup", AttachStructOps: "struct_ops",
	AttachNetfilter: "netfilter", AttachTCXIngress: "tcx_ingress", AttachTCXEgress: "tcx_egress",
	AttachTraceUprobeMulti: "trace_uprobe_multi", AttachCGroupUnixConnect: "cgroup_unix_connect",
	AttachCGroupUnixSendmsg: "cgroup_unix_sendmsg", AttachCGroupUnixRecvmsg: "cgroup_unix_recvmsg",
	AttachCGroupUnixGetpeername: "cgroup_unix_getpeername", AttachCGroupUnixGetsockname: "cgroup_unix_getsockname",
	AttachNetkitPrimary: "netkit_primary", AttachNetkitPeer: "netkit_peer",
	AttachTraceKprobeSession: "trace_kprobe_session", AttachTraceUprobeSession: "trace_uprobe_session",
}

// AttachTypeName returns libbpf's name for an attach type, or its number.
func AttachTypeName(t AttachType) string {
	if n, ok := attachNames[t]; ok {
		return n
	}
	return t.String()
}

// Helper IDs, numbered as enum bpf_func_id (the ___BPF_FUNC_MAPPER list of
// linux/bpf.h).
const (
	FnUnspec                     platform.HelperID = 0 // not a helper; calls to it are invalid
	FnMapLookupElem              platform.HelperID = 1
	FnMapUpdateElem              platform.HelperID = 2
	FnMapDeleteElem              platform.HelperID = 3
	FnProbeRead                  platform.HelperID = 4
	FnKtimeGetNs                 platform.HelperID = 5
	FnTracePrintk                platform.HelperID = 6
	FnGetPrandomU32              platform.HelperID = 7
	FnGetSmpProcessorId          platform.HelperID = 8
	FnSkbStoreBytes              platform.HelperID = 9
	FnL3CsumReplace              platform.HelperID = 10
	FnL4CsumReplace              platform.HelperID = 11
	FnTailCall                   platform.HelperID = 12
	FnCloneRedirect              platform.HelperID = 13
	FnGetCurrentPidTgid          platform.HelperID = 14
	FnGetCurrentUidGid           platform.HelperID = 15
	FnGetCurrentComm             platform.HelperID = 16
	FnGetCgroupClassid           platform.HelperID = 17
	FnSkbVlanPush                platform.HelperID = 18
	FnSkbVlanPop                 platform.HelperID = 19
	FnSkbGetTunnelKey            platform.HelperID = 20
	FnSkbSetTunnelKey            platform.HelperID = 21
	FnPerfEventRead              platform.HelperID = 22
	FnRedirect                   platform.HelperID = 23
	FnGetRouteRealm              platform.HelperID = 24
	FnPerfEventOutput            platform.HelperID = 25
	FnSkbLoadBytes               platform.HelperID = 26
	FnGetStackid                 platform.HelperID = 27
	FnCsumDiff                   platform.HelperID = 28
	FnSkbGetTunnelOpt            platform.HelperID = 29
	FnSkbSetTunnelOpt            platform.HelperID = 30
	FnSkbChangeProto             platform.HelperID = 31
	FnSkbChangeType              platform.HelperID = 32
	FnSkbUnderCgroup             platform.HelperID = 33
	FnGetHashRecalc              platform.HelperID = 34
	FnGetCurrentTask             platform.HelperID = 35
	FnProbeWriteUser             platform.HelperID = 36
	FnCurrentTaskUnderCgroup     platform.HelperID = 37
	FnSkbChangeTail              platform.HelperID = 38
	FnSkbPullData                platform.HelperID = 39
	FnCsumUpdate                 platform.HelperID = 40
	FnSetHashInvalid             platform.HelperID = 41
	FnGetNumaNodeId              platform.HelperID = 42
	FnSkbChangeHead              platform.HelperID = 43
	FnXdpAdjustHead              platform.HelperID = 44
	FnProbeReadStr               platform.HelperID = 45
	FnGetSocketCookie            platform.HelperID = 46
	FnGetSocketUid               platform.HelperID = 47
	FnSetHash                    platform.HelperID = 48
	FnSetsockopt                 platform.HelperID = 49
	FnSkbAdjustRoom              platform.HelperID = 50
	FnRedirectMap                platform.HelperID = 51
	FnSkRedirectMap              platform.HelperID = 52
	FnSockMapUpdate              platform.HelperID = 53
	FnXdpAdjustMeta              platform.HelperID = 54
	FnPerfEventReadValue         platform.HelperID = 55
	FnPerfProgReadValue          platform.HelperID = 56
	FnGetsockopt                 platform.HelperID = 57
	FnOverrideReturn             platform.HelperID = 58
	FnSockOpsCbFlagsSet          platform.HelperID = 59
	FnMsgRedirectMap             platform.HelperID = 60
	FnMsgApplyBytes              platform.HelperID = 61
	FnMsgCorkBytes               platform.HelperID = 62
	FnMsgPullData                platform.HelperID = 63
	FnBind                       platform.HelperID = 64
	FnXdpAdjustTail              platform.HelperID = 65
	FnSkbGetXfrmState            platform.HelperID = 66
	FnGetStack                   platform.HelperID = 67
	FnSkbLoadBytesRelative       platform.HelperID = 68
	FnFibLookup                  platform.HelperID = 69
	FnSockHashUpdate             platform.HelperID = 70
	FnMsgRedirectHash            platform.HelperID = 71
	FnSkRedirectHash             platform.HelperID = 72
	FnLwtPushEncap               platform.HelperID = 73
	FnLwtSeg6StoreBytes          platform.HelperID = 74
	FnLwtSeg6AdjustSrh           platform.HelperID = 75
	FnLwtSeg6Action              platform.HelperID = 76
	FnRcRepeat                   platform.HelperID = 77
	FnRcKeydown                  platform.HelperID = 78
	FnSkbCgroupId                platform.HelperID = 79
	FnGetCurrentCgroupId         platform.HelperID = 80
	FnGetLocalStorage            platform.HelperID = 81
	FnSkSelectReuseport          platform.HelperID = 82
	FnSkbAncestorCgroupId        platform.HelperID = 83
	FnSkLookupTcp                platform.HelperID = 84
	FnSkLookupUdp                platform.HelperID = 85
	FnSkRelease                  platform.HelperID = 86
	FnMapPushElem                platform.HelperID = 87
	FnMapPopElem                 platform.HelperID = 88
	FnMapPeekElem                platform.HelperID = 89
	FnMsgPushData                platform.HelperID = 90
	FnMsgPopData                 platform.HelperID = 91
	FnRcPointerRel               platform.HelperID = 92
	FnSpinLock                   platform.HelperID = 93
	FnSpinUnlock                 platform.HelperID = 94
	FnSkFullsock                 platform.HelperID = 95
	FnTcpSock                    platform.HelperID = 96
	FnSkbEcnSetCe                platform.HelperID = 97
	FnGetListenerSock            platform.HelperID = 98
	FnSkcLookupTcp               platform.HelperID = 99
	FnTcpCheckSyncookie          platform.HelperID = 100
	FnSysctlGetName              platform.HelperID = 101
	FnSysctlGetCurrentValue      platform.HelperID = 102
	FnSysctlGetNewValue          platform.HelperID = 103
	FnSysctlSetNewValue          platform.HelperID = 104
	FnStrtol                     platform.HelperID = 105
	FnStrtoul                    platform.HelperID = 106
	FnSkStorageGet               platform.HelperID = 107
	FnSkStorageDelete            platform.HelperID = 108
	FnSendSignal                 platform.HelperID = 109
	FnTcpGenSyncookie            platform.HelperID = 110
	FnSkbOutput                  platform.HelperID = 111
	FnProbeReadUser              platform.HelperID = 112
	FnProbeReadKernel            platform.HelperID = 113
	FnProbeReadUserStr           platform.HelperID = 114
	FnProbeReadKernelStr         platform.HelperID = 115
	FnTcpSendAck                 platform.HelperID = 116
	FnSendSignalThread           platform.HelperID = 117
	FnJiffies64                  platform.HelperID = 118
	FnReadBranchRecords          platform.HelperID = 119
	FnGetNsCurrentPidTgid        platform.HelperID = 120
	FnXdpOutput                  platform.HelperID = 121
	FnGetNetnsCookie             platform.HelperID = 122
	FnGetCurrentAncestorCgroupId platform.HelperID = 123
	FnSkAssign                   platform.HelperID = 124
	FnKtimeGetBootNs             platform.HelperID = 125
	FnSeqPrintf                  platform.HelperID = 126
	FnSeqWrite                   platform.HelperID = 127
	FnSkCgroupId                 platform.HelperID = 128
	FnSkAncestorCgroupId         platform.HelperID = 129
	FnRingbufOutput              platform.HelperID = 130
	FnRingbufReserve             platform.HelperID = 131
	FnRingbufSubmit              platform.HelperID = 132
	FnRingbufDiscard             platform.HelperID = 133
	FnRingbufQuery               platform.HelperID = 134
	FnCsumLevel                  platform.HelperID = 135
	FnSkcToTcp6Sock              platform.HelperID = 136
	FnSkcToTcpSock               platform.HelperID = 137
	FnSkcToTcpTimewaitSock       platform.HelperID = 138
	FnSkcToTcpRequestSock        platform.HelperID = 139
	FnSkcToUdp6Sock              platform.HelperID = 140
	FnGetTaskStack               platform.HelperID = 141
	FnLoadHdrOpt                 platform.HelperID = 142
	FnStoreHdrOpt                platform.HelperID = 143
	FnReserveHdrOpt              platform.HelperID = 144
	FnInodeStorageGet            platform.HelperID = 145
	FnInodeStorageDelete         platform.HelperID = 146
	FnDPath                      platform.HelperID = 147
	FnCopyFromUser               platform.HelperID = 148
	FnSnprintfBtf                platform.HelperID = 149
	FnSeqPrintfBtf               platform.HelperID = 150
	FnSkbCgroupClassid           platform.HelperID = 151
	FnRedirectNeigh              platform.HelperID = 152
	FnPerCpuPtr                  platform.HelperID = 153
	FnThisCpuPtr                 platform.HelperID = 154
	FnRedirectPeer               platform.HelperID = 155
	FnTaskStorageGet             platform.HelperID = 156
	FnTaskStorageDelete          platform.HelperID = 157
	FnGetCurrentTaskBtf          platform.HelperID = 158
	FnBprmOptsSet                platform.HelperID = 159
	FnKtimeGetCoarseNs           platform.HelperID = 160
	FnImaInodeHash               platform.HelperID = 161
	FnSockFromFile               platform.HelperID = 162
	FnCheckMtu                   platform.HelperID = 163
	FnForEachMapElem             platform.HelperID = 164
	FnSnprintf                   platform.HelperID = 165
	FnSysBpf                     platform.HelperID = 166
	FnBtfFindByNameKind          platform.HelperID = 167
	FnSysClose                   platform.HelperID = 168
	FnTimerInit                  platform.HelperID = 169
	FnTimerSetCallback           platform.HelperID = 170
	FnTimerStart                 platform.HelperID = 171
	FnTimerCancel                platform.HelperID = 172
	FnGetFuncIp                  platform.HelperID = 173
	FnGetAttachCookie            platform.HelperID = 174
	FnTaskPtRegs                 platform.HelperID = 175
	FnGetBranchSnapshot          platform.HelperID = 176
	FnTraceVprintk               platform.HelperID = 177
	FnSkcToUnixSock              platform.HelperID = 178
	FnKallsymsLookupName         platform.HelperID = 179
	FnFindVma                    platform.HelperID = 180
	FnLoop                       platform.HelperID = 181
	FnStrncmp                    platform.HelperID = 182
	FnGetFuncArg                 platform.HelperID = 183
	FnGetFuncRet                 platform.HelperID = 184
	FnGetFuncArgCnt              platform.HelperID = 185
	FnGetRetval                  platform.HelperID = 186
	FnSetRetval                  platform.HelperID = 187
	FnXdpGetBuffLen              platform.HelperID = 188
	FnXdpLoadBytes               platform.HelperID = 189
	FnXdpStoreBytes              platform.HelperID = 190
	FnCopyFromUserTask           platform.HelperID = 191
	FnSkbSetTstamp               platform.HelperID = 192
	FnImaFileHash                platform.HelperID = 193
	FnKptrXchg                   platform.HelperID = 194
	FnMapLookupPercpuElem        platform.HelperID = 195
	FnSkcToMptcpSock             platform.HelperID = 196
	FnDynptrFromMem              platform.HelperID = 197
	FnRingbufReserveDynptr       platform.HelperID = 198
	FnRingbufSubmitDynptr        platform.HelperID = 199
	FnRingbufDiscardDynptr       platform.HelperID = 200
	FnDynptrRead                 platform.HelperID = 201
	FnDynptrWrite                platform.HelperID = 202
	FnDynptrData                 platform.HelperID = 203
	FnTcpRawGenSyncookieIpv4     platform.HelperID = 204
	FnTcpRawGenSyncookieIpv6     platform.HelperID = 205
	FnTcpRawCheckSyncookieIpv4   platform.HelperID = 206
	FnTcpRawCheckSyncookieIpv6   platform.HelperID = 207
	FnKtimeGetTaiNs              platform.HelperID = 208
	FnUserRingbufDrain           platform.HelperID = 209
	FnCgrpStorageGet             platform.HelperID = 210
	FnCgrpStorageDelete          platform.HelperID = 211
)
