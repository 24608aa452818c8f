package linux

import "github.com/bpfhost/bpfhost/platform"

// The helper sets below follow the get_func_proto functions of the Linux
// kernel (net/core/filter.c, kernel/bpf/helpers.c, kernel/bpf/cgroup.c,
// kernel/trace/bpf_trace.c, v6.1 to v6.8) as seen by a loader with CAP_BPF
// and CAP_PERFMON, which is how bpfhost runs programs. Per-attach-type
// restrictions inside a program type are applied where the kernel has them
// (bind only for connect4/6, setsockopt for inet sock_addr hooks).

var set = platform.NewHelperSet

// baseHelpers is bpf_base_func_proto for a privileged loader.
var baseHelpers = set(
	// Available to every loader.
	FnMapLookupElem, FnMapUpdateElem, FnMapDeleteElem, FnMapPushElem, FnMapPopElem, FnMapPeekElem,
	FnMapLookupPercpuElem, FnGetPrandomU32, FnGetSmpProcessorId, FnGetNumaNodeId, FnTailCall,
	FnKtimeGetNs, FnKtimeGetBootNs, FnKtimeGetTaiNs, FnRingbufOutput, FnRingbufReserve,
	FnRingbufSubmit, FnRingbufDiscard, FnRingbufQuery, FnStrncmp, FnStrtol, FnStrtoul,
	FnGetCurrentPidTgid, FnGetNsCurrentPidTgid,
	// CAP_BPF.
	FnSpinLock, FnSpinUnlock, FnJiffies64, FnPerCpuPtr, FnThisCpuPtr, FnTimerInit,
	FnTimerSetCallback, FnTimerStart, FnTimerCancel, FnKptrXchg, FnForEachMapElem, FnLoop,
	FnUserRingbufDrain, FnRingbufReserveDynptr, FnRingbufSubmitDynptr, FnRingbufDiscardDynptr,
	FnDynptrFromMem, FnDynptrRead, FnDynptrWrite, FnDynptrData, FnCgrpStorageGet,
	FnCgrpStorageDelete, FnGetCurrentCgroupId, FnGetCurrentAncestorCgroupId,
	// CAP_PERFMON.
	FnTracePrintk, FnGetCurrentTask, FnGetCurrentTaskBtf, FnProbeReadUser, FnProbeReadKernel,
	FnProbeReadUserStr, FnProbeReadKernelStr, FnSnprintfBtf, FnSnprintf, FnTaskPtRegs, FnTraceVprintk,
)

// skBaseHelpers is bpf_sk_base_func_proto: the base plus socket casts.
var skBaseHelpers = baseHelpers.Union(set(
	FnSkcToTcp6Sock, FnSkcToTcpSock, FnSkcToTcpTimewaitSock, FnSkcToTcpRequestSock,
	FnSkcToUdp6Sock, FnSkcToUnixSock, FnSkcToMptcpSock, FnKtimeGetCoarseNs,
))

var (
	socketFilterHelpers = skBaseHelpers.Union(set(
		FnSkbLoadBytes, FnSkbLoadBytesRelative, FnGetSocketCookie, FnGetSocketUid, FnPerfEventOutput,
	))

	cgroupSKBHelpers = socketFilterHelpers.Union(set(
		FnGetLocalStorage, FnSkFullsock, FnSkStorageGet, FnSkStorageDelete, FnSkbCgroupId,
		FnSkbAncestorCgroupId, FnSkCgroupId, FnSkAncestorCgroupId, FnSkLookupTcp, FnSkLookupUdp,
		FnSkRelease, FnSkcLookupTcp, FnTcpSock, FnGetListenerSock, FnSkbEcnSetCe,
	)) // no bpf_get_retval, bpf_set_retval: cgroup_common_func_proto withholds them from inet ingress and egress

	tcHelpers = skBaseHelpers.Union(set(
		FnSkbStoreBytes, FnSkbLoadBytes, FnSkbLoadBytesRelative, FnSkbPullData, FnCsumDiff,
		FnCsumUpdate, FnCsumLevel, FnL3CsumReplace, FnL4CsumReplace, FnCloneRedirect,
		FnGetCgroupClassid, FnSkbVlanPush, FnSkbVlanPop, FnSkbChangeProto, FnSkbChangeType,
		FnSkbAdjustRoom, FnSkbChangeTail, FnSkbChangeHead, FnSkbGetTunnelKey, FnSkbSetTunnelKey,
		FnSkbGetTunnelOpt, FnSkbSetTunnelOpt, FnRedirect, FnRedirectNeigh, FnRedirectPeer,
		FnGetRouteRealm, FnGetHashRecalc, FnSetHashInvalid, FnSetHash, FnPerfEventOutput,
		FnSkbUnderCgroup, FnGetSocketCookie, FnGetSocketUid, FnFibLookup, FnCheckMtu,
		FnSkFullsock, FnSkStorageGet, FnSkStorageDelete, FnSkbGetXfrmState, FnSkbCgroupClassid,
		FnSkbCgroupId, FnSkbAncestorCgroupId, FnSkLookupTcp, FnSkLookupUdp, FnSkRelease,
		FnTcpSock, FnGetListenerSock, FnSkcLookupTcp, FnTcpCheckSyncookie, FnSkbEcnSetCe,
		FnTcpGenSyncookie, FnSkAssign, FnSkbSetTstamp, FnTcpRawGenSyncookieIpv4,
		FnTcpRawGenSyncookieIpv6, FnTcpRawCheckSyncookieIpv4, FnTcpRawCheckSyncookieIpv6,
	))

	xdpHelpers = skBaseHelpers.Union(set(
		FnPerfEventOutput, FnCsumDiff, FnXdpAdjustHead, FnXdpAdjustMeta, FnRedirect,
		FnRedirectMap, FnXdpAdjustTail, FnXdpGetBuffLen, FnXdpLoadBytes, FnXdpStoreBytes,
		FnFibLookup, FnCheckMtu, FnSkLookupUdp, FnSkLookupTcp, FnSkRelease, FnSkcLookupTcp,
		FnTcpCheckSyncookie, FnTcpGenSyncookie, FnTcpRawGenSyncookieIpv4, FnTcpRawGenSyncookieIpv6,
		FnTcpRawCheckSyncookieIpv4, FnTcpRawCheckSyncookieIpv6,
	))

	sockOpsHelpers = skBaseHelpers.Union(set(
		FnSetsockopt, FnGetsockopt, FnSockOpsCbFlagsSet, FnSockMapUpdate, FnSockHashUpdate,
		FnGetSocketCookie, FnGetLocalStorage, FnPerfEventOutput, FnSkStorageGet, FnSkStorageDelete,
		FnGetNetnsCookie, FnLoadHdrOpt, FnStoreHdrOpt, FnReserveHdrOpt, FnTcpSock,
	))

	skMsgHelpers = skBaseHelpers.Union(set(
		FnMsgRedirectMap, FnMsgRedirectHash, FnMsgApplyBytes, FnMsgCorkBytes, FnMsgPullData,
		FnMsgPushData, FnMsgPopData, FnPerfEventOutput, FnGetCurrentUidGid, FnSkStorageGet,
		FnSkStorageDelete, FnGetNetnsCookie, FnGetCgroupClassid,
	))

	skSKBHelpers = skBaseHelpers.Union(set(
		FnSkbStoreBytes, FnSkbLoadBytes, FnSkbPullData, FnSkbChangeTail, FnSkbChangeHead,
		FnSkbAdjustRoom, FnGetSocketCookie, FnGetSocketUid, FnSkRedirectMap, FnSkRedirectHash,
		FnPerfEventOutput, FnSkLookupTcp, FnSkLookupUdp, FnSkRelease, FnSkcLookupTcp,
	))

	flowDissectorHelpers = skBaseHelpers.Union(set(FnSkbLoadBytes))

	lwtOutHelpers = skBaseHelpers.Union(set(
		FnSkbLoadBytes, FnSkbPullData, FnCsumDiff, FnGetCgroupClassid, FnGetRouteRealm,
		FnGetHashRecalc, FnPerfEventOutput, FnSkbUnderCgroup,
	))
	lwtInHelpers   = lwtOutHelpers.Union(set(FnLwtPushEncap))
	lwtXmitHelpers = lwtOutHelpers.Union(set(
		FnSkbGetTunnelKey, FnSkbSetTunnelKey, FnSkbGetTunnelOpt, FnSkbSetTunnelOpt, FnRedirect,
		FnCloneRedirect, FnSkbChangeTail, FnSkbChangeHead, FnSkbStoreBytes, FnCsumUpdate,
		FnCsumLevel, FnL3CsumReplace, FnL4CsumReplace, FnSetHashInvalid, FnLwtPushEncap,
	))
	lwtSeg6LocalHelpers = lwtOutHelpers.Union(set(FnLwtSeg6StoreBytes, FnLwtSeg6Action, FnLwtSeg6AdjustSrh))

	cgroupSockHelpers = baseHelpers.Union(set(
		FnGetCurrentUidGid, FnGetLocalStorage, FnGetSocketCookie, FnGetNetnsCookie,
		FnPerfEventOutput, FnGetCurrentComm, FnGetCgroupClassid, FnSkStorageGet, FnKtimeGetCoarseNs,
		FnGetRetval, FnSetRetval, // cgroup_common_func_proto: every cgroup_sock attach type
	))

	// sockAddrBaseHelpers is sock_addr_func_proto without the attach-type
	// dependent helpers (bind, setsockopt, getsockopt).
	sockAddrBaseHelpers = baseHelpers.Union(set(
		FnGetCurrentUidGid, FnGetSocketCookie, FnGetNetnsCookie, FnGetLocalStorage,
		FnPerfEventOutput, FnGetCurrentComm, FnGetCgroupClassid, FnSkLookupTcp, FnSkLookupUdp,
		FnSkRelease, FnSkcLookupTcp, FnSkStorageGet, FnSkStorageDelete,
	))

	cgroupBaseHelpers = baseHelpers.Union(set(
		FnGetCurrentUidGid, FnGetLocalStorage, FnGetCurrentCgroupId, FnPerfEventOutput,
		FnGetRetval, FnSetRetval,
	))
	cgroupDeviceHelpers = cgroupBaseHelpers
	cgroupSysctlHelpers = cgroupBaseHelpers.Union(set(
		FnStrtol, FnStrtoul, FnSysctlGetName, FnSysctlGetCurrentValue, FnSysctlGetNewValue,
		FnSysctlSetNewValue, FnKtimeGetCoarseNs,
	))
	cgroupSockoptHelpers = cgroupBaseHelpers.Union(set(FnGetNetnsCookie, FnSkStorageGet, FnSkStorageDelete, FnTcpSock))

	skReuseportHelpers = baseHelpers.Union(set(
		FnSkSelectReuseport, FnSkbLoadBytes, FnSkbLoadBytesRelative, FnGetSocketCookie, FnKtimeGetCoarseNs,
	))

	skLookupHelpers = skBaseHelpers.Union(set(FnPerfEventOutput, FnSkAssign, FnSkRelease))

	lircMode2Helpers = set(
		FnRcRepeat, FnRcKeydown, FnRcPointerRel, FnMapLookupElem, FnMapUpdateElem,
		FnMapDeleteElem, FnKtimeGetNs, FnKtimeGetBootNs, FnTailCall, FnGetPrandomU32, FnTracePrintk,
	)

	// tracingBaseHelpers is bpf_tracing_func_proto.
	tracingBaseHelpers = baseHelpers.Union(set(
		FnGetCurrentUidGid, FnGetCurrentComm, FnPerfEventRead, FnCurrentTaskUnderCgroup,
		FnProbeWriteUser, FnProbeRead, FnProbeReadStr, FnSendSignal, FnSendSignalThread,
		FnPerfEventReadValue, FnGetTaskStack, FnCopyFromUser, FnCopyFromUserTask,
		FnTaskStorageGet, FnTaskStorageDelete, FnGetFuncIp, FnGetBranchSnapshot, FnFindVma,
	))
	kprobeHelpers = tracingBaseHelpers.Union(set(
		FnPerfEventOutput, FnGetStackid, FnGetStack, FnOverrideReturn, FnGetAttachCookie,
	))
	tracepointHelpers = tracingBaseHelpers.Union(set(
		FnPerfEventOutput, FnGetStackid, FnGetStack, FnGetAttachCookie,
	))
	perfEventHelpers = tracingBaseHelpers.Union(set(
		FnPerfEventOutput, FnGetStackid, FnGetStack, FnPerfProgReadValue, FnReadBranchRecords,
		FnGetAttachCookie,
	))
	rawTracepointHelpers = tracingBaseHelpers.Union(set(
		FnPerfEventOutput, FnGetStackid, FnGetStack, FnGetAttachCookie,
	))
	// btfTracingHelpers is tracing_prog_func_proto (fentry, fexit, ...).
	btfTracingHelpers = rawTracepointHelpers.Union(set(
		FnSkbOutput, FnXdpOutput, FnSkcToTcp6Sock, FnSkcToTcpSock, FnSkcToTcpTimewaitSock,
		FnSkcToTcpRequestSock, FnSkcToUdp6Sock, FnSkcToUnixSock, FnSkcToMptcpSock,
		FnSkStorageGet, FnSkStorageDelete, FnSockFromFile, FnGetSocketCookie, FnSeqPrintf,
		FnSeqWrite, FnSeqPrintfBtf, FnDPath, FnGetFuncArg, FnGetFuncRet, FnGetFuncArgCnt,
	))
	lsmHelpers = btfTracingHelpers.Union(set(
		FnInodeStorageGet, FnInodeStorageDelete, FnBprmOptsSet, FnImaInodeHash, FnImaFileHash,
		FnGetLocalStorage, FnGetRetval, FnSetRetval,
	))
	syscallHelpers = btfTracingHelpers.Union(set(FnSysBpf, FnBtfFindByNameKind, FnSysClose, FnKallsymsLookupName))
	// structOpsHelpers approximates the TCP congestion control struct_ops
	// (bpf_tcp_ca_get_func_proto); other struct_ops differ.
	structOpsHelpers = baseHelpers.Union(set(
		FnTcpSendAck, FnSkStorageGet, FnSkStorageDelete, FnSetsockopt, FnGetsockopt, FnKtimeGetCoarseNs,
	))

	// genericHelpers are the base helpers bpfhost can implement itself, for
	// its own embedding type: no kernel objects or kernel memory.
	genericHelpers = hostable(baseHelpers)
)

// hostable returns the members of s that are not KernelOnly.
func hostable(s platform.HelperSet) platform.HelperSet {
	out := set()
	for _, p := range helperProtos {
		if s.Has(p.ID) && !p.KernelOnly {
			out[p.ID] = struct{}{}
		}
	}
	return out
}
