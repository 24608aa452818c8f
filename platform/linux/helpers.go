package linux

import "github.com/bpfhost/bpfhost/platform"

// Shorthands for the prototype table.
const (
	anything    = platform.ArgAnything
	address     = platform.ArgAddress
	mapPtr      = platform.ArgConstMapPtr
	mapKey      = platform.ArgMapKey
	mapValue    = platform.ArgMapValue
	mapValOrNil = platform.ArgMapValueOrNull
	uninitValue = platform.ArgUninitMapValue
	mem         = platform.ArgMem
	memOrNil    = platform.ArgMemOrNull
	wmem        = platform.ArgWritableMem
	wmemOrNil   = platform.ArgWritableMemOrNull
	umem        = platform.ArgUninitMem
	fixedMem    = platform.ArgFixedMem
	size        = platform.ArgConstSize
	sizeOr0     = platform.ArgConstSizeOrZero
	allocSize   = platform.ArgConstAllocSizeOrZero
	ctx         = platform.ArgCtx
	ctxOrNil    = platform.ArgCtxOrNull
	long        = platform.ArgLong
	intPtr      = platform.ArgInt
	constStr    = platform.ArgConstStr
	fn          = platform.ArgFunc
	stackOrNil  = platform.ArgStackOrNull
	ringbufMem  = platform.ArgRingbufMem
	spinLock    = platform.ArgSpinLock
	timer       = platform.ArgTimer
	sockCommonA = platform.ArgSockCommon
	btfSock     = platform.ArgBTFSockCommon
	btfID       = platform.ArgBTFID
	dynptr      = platform.ArgDynptr
	newDynptr   = platform.ArgUninitDynptr
	kptr        = platform.ArgKptr

	integer = platform.RetInteger
	void    = platform.RetVoid
)

type protoOpt func(*platform.HelperProto)

var (
	changesPacket protoOpt = func(p *platform.HelperProto) { p.ChangesPacket = true }
	pktAccess     protoOpt = func(p *platform.HelperProto) { p.PacketAccess = true }
	gpl           protoOpt = func(p *platform.HelperProto) { p.GPLOnly = true }
	mightSleep    protoOpt = func(p *platform.HelperProto) { p.MightSleep = true }
	kernelOnly    protoOpt = func(p *platform.HelperProto) { p.KernelOnly = true }
	acquire       protoOpt = func(p *platform.HelperProto) { p.Acquire = true }
)

func releases(arg int) protoOpt { return func(p *platform.HelperProto) { p.Release = arg } }

func callback(k platform.CallbackKind) protoOpt {
	return func(p *platform.HelperProto) { p.Callback = k }
}

func argSize(arg, n int) protoOpt { return func(p *platform.HelperProto) { p.ArgSize[arg-1] = n } }

func retStruct(d *platform.ContextDescriptor) protoOpt {
	return func(p *platform.HelperProto) { p.RetStruct = d }
}

// argStruct names the kernel struct the ArgBTFID argument arg (1-based)
// points to.
func argStruct(arg int, name string) protoOpt {
	return func(p *platform.HelperProto) { p.ArgKernelStruct[arg-1] = name }
}

func args(k ...platform.ArgKind) []platform.ArgKind { return k }

// cgroupSockProtos are cgroup_sock's own prototypes: its context is the
// socket (bpf_sk_storage_get_cg_sock_proto takes it as ARG_PTR_TO_CTX).
var cgroupSockProtos = map[platform.HelperID]*platform.HelperProto{
	FnSkStorageGet: proto(FnSkStorageGet, platform.RetMapValueOrNull, args(mapPtr, ctx, mapValOrNil, anything)),
}

func proto(id platform.HelperID, ret platform.RetKind, a []platform.ArgKind, opts ...protoOpt) *platform.HelperProto {
	p := &platform.HelperProto{ID: id, Name: "bpf_" + helperNames[id], Ret: ret}
	copy(p.Args[:], a)
	for _, o := range opts {
		o(p)
	}
	return p
}

// helperProtos has a prototype for every helper of enum bpf_func_id (1 to
// 211), after the bpf_func_proto tables of the Linux kernel (v6.1 to v6.8).
// Where Linux has several prototypes for one ID (get_socket_cookie takes
// the context in most program types and a socket in tracing programs), the
// common form is given. Helpers that work on kernel objects are marked
// KernelOnly.
var helperProtos = []*platform.HelperProto{
	proto(FnMapLookupElem, platform.RetMapValueOrNull, args(mapPtr, mapKey), pktAccess),
	proto(FnMapUpdateElem, integer, args(mapPtr, mapKey, mapValue, anything), pktAccess),
	proto(FnMapDeleteElem, integer, args(mapPtr, mapKey), pktAccess),
	proto(FnProbeRead, integer, args(umem, sizeOr0, address), gpl, kernelOnly),
	proto(FnKtimeGetNs, integer, nil),
	proto(FnTracePrintk, integer, args(mem, size), gpl), // r3..r5 are unchecked format arguments
	proto(FnGetPrandomU32, integer, nil),
	proto(FnGetSmpProcessorId, integer, nil),
	proto(FnSkbStoreBytes, integer, args(ctx, anything, mem, size, anything), changesPacket),
	proto(FnL3CsumReplace, integer, args(ctx, anything, anything, anything, anything), changesPacket),
	proto(FnL4CsumReplace, integer, args(ctx, anything, anything, anything, anything), changesPacket),
	proto(FnTailCall, void, args(ctx, mapPtr, anything)),
	proto(FnCloneRedirect, integer, args(ctx, anything, anything), changesPacket),
	proto(FnGetCurrentPidTgid, integer, nil),
	proto(FnGetCurrentUidGid, integer, nil),
	proto(FnGetCurrentComm, integer, args(umem, size)),
	proto(FnGetCgroupClassid, integer, args(ctx)),
	proto(FnSkbVlanPush, integer, args(ctx, anything, anything), changesPacket),
	proto(FnSkbVlanPop, integer, args(ctx), changesPacket),
	proto(FnSkbGetTunnelKey, integer, args(ctx, umem, size, anything)),
	proto(FnSkbSetTunnelKey, integer, args(ctx, mem, size, anything)),
	proto(FnPerfEventRead, integer, args(mapPtr, anything), kernelOnly),
	proto(FnRedirect, integer, args(anything, anything)),
	proto(FnGetRouteRealm, integer, args(ctx)),
	proto(FnPerfEventOutput, integer, args(ctx, mapPtr, anything, mem, sizeOr0), gpl),
	proto(FnSkbLoadBytes, integer, args(ctx, anything, umem, size)),
	proto(FnGetStackid, integer, args(ctx, mapPtr, anything), gpl, kernelOnly),
	proto(FnCsumDiff, integer, args(memOrNil, sizeOr0, memOrNil, sizeOr0, anything), pktAccess),
	proto(FnSkbGetTunnelOpt, integer, args(ctx, umem, size)),
	proto(FnSkbSetTunnelOpt, integer, args(ctx, mem, size)),
	proto(FnSkbChangeProto, integer, args(ctx, anything, anything), changesPacket),
	proto(FnSkbChangeType, integer, args(ctx, anything)),
	proto(FnSkbUnderCgroup, integer, args(ctx, mapPtr, anything)),
	proto(FnGetHashRecalc, integer, args(ctx)),
	proto(FnGetCurrentTask, integer, nil, gpl, kernelOnly),
	proto(FnProbeWriteUser, integer, args(anything, mem, size), gpl, kernelOnly),
	proto(FnCurrentTaskUnderCgroup, integer, args(mapPtr, anything), kernelOnly),
	proto(FnSkbChangeTail, integer, args(ctx, anything, anything), changesPacket),
	proto(FnSkbPullData, integer, args(ctx, anything), changesPacket),
	proto(FnCsumUpdate, integer, args(ctx, anything)),
	proto(FnSetHashInvalid, void, args(ctx)),
	proto(FnGetNumaNodeId, integer, nil),
	proto(FnSkbChangeHead, integer, args(ctx, anything, anything), changesPacket),
	proto(FnXdpAdjustHead, integer, args(ctx, anything), changesPacket),
	proto(FnProbeReadStr, integer, args(umem, sizeOr0, address), gpl, kernelOnly),
	proto(FnGetSocketCookie, integer, args(ctx)),
	proto(FnGetSocketUid, integer, args(ctx)),
	proto(FnSetHash, integer, args(ctx, anything)),
	proto(FnSetsockopt, integer, args(ctx, anything, anything, mem, size)),
	proto(FnSkbAdjustRoom, integer, args(ctx, anything, anything, anything), changesPacket),
	proto(FnRedirectMap, integer, args(mapPtr, anything, anything)),
	proto(FnSkRedirectMap, integer, args(ctx, mapPtr, anything, anything)),
	proto(FnSockMapUpdate, integer, args(ctx, mapPtr, mapKey, anything)),
	proto(FnXdpAdjustMeta, integer, args(ctx, anything), changesPacket),
	proto(FnPerfEventReadValue, integer, args(mapPtr, anything, umem, size), gpl, kernelOnly),
	proto(FnPerfProgReadValue, integer, args(ctx, umem, size), gpl, kernelOnly),
	proto(FnGetsockopt, integer, args(ctx, anything, anything, umem, size)),
	proto(FnOverrideReturn, integer, args(ctx, anything), gpl, kernelOnly),
	proto(FnSockOpsCbFlagsSet, integer, args(ctx, anything)),
	proto(FnMsgRedirectMap, integer, args(ctx, mapPtr, anything, anything)),
	proto(FnMsgApplyBytes, integer, args(ctx, anything)),
	proto(FnMsgCorkBytes, integer, args(ctx, anything)),
	proto(FnMsgPullData, integer, args(ctx, anything, anything, anything), changesPacket),
	proto(FnBind, integer, args(ctx, mem, size)),
	proto(FnXdpAdjustTail, integer, args(ctx, anything), changesPacket),
	proto(FnSkbGetXfrmState, integer, args(ctx, anything, umem, size, anything)),
	proto(FnGetStack, integer, args(ctx, umem, sizeOr0, anything), gpl, kernelOnly),
	proto(FnSkbLoadBytesRelative, integer, args(ctx, anything, umem, size, anything)),
	proto(FnFibLookup, integer, args(ctx, wmem, size, anything)),
	proto(FnSockHashUpdate, integer, args(ctx, mapPtr, mapKey, anything)),
	proto(FnMsgRedirectHash, integer, args(ctx, mapPtr, mapKey, anything)),
	proto(FnSkRedirectHash, integer, args(ctx, mapPtr, mapKey, anything)),
	proto(FnLwtPushEncap, integer, args(ctx, anything, mem, size), changesPacket),
	proto(FnLwtSeg6StoreBytes, integer, args(ctx, anything, mem, size), changesPacket),
	proto(FnLwtSeg6AdjustSrh, integer, args(ctx, anything, anything), changesPacket),
	proto(FnLwtSeg6Action, integer, args(ctx, anything, mem, size), changesPacket),
	proto(FnRcRepeat, integer, args(ctx), gpl),
	proto(FnRcKeydown, integer, args(ctx, anything, anything, anything), gpl),
	proto(FnSkbCgroupId, integer, args(ctx)),
	proto(FnGetCurrentCgroupId, integer, nil),
	proto(FnGetLocalStorage, platform.RetMapValue, args(mapPtr, anything)),
	proto(FnSkSelectReuseport, integer, args(ctx, mapPtr, mapKey, anything)),
	proto(FnSkbAncestorCgroupId, integer, args(ctx, anything)),
	proto(FnSkLookupTcp, platform.RetSocketOrNull, args(ctx, mem, size, anything, anything), acquire, pktAccess, retStruct(bpfSock)),
	proto(FnSkLookupUdp, platform.RetSocketOrNull, args(ctx, mem, size, anything, anything), acquire, pktAccess, retStruct(bpfSock)),
	proto(FnSkRelease, integer, args(btfSock), releases(1)),
	proto(FnMapPushElem, integer, args(mapPtr, mapValue, anything), pktAccess),
	proto(FnMapPopElem, integer, args(mapPtr, uninitValue)),
	proto(FnMapPeekElem, integer, args(mapPtr, uninitValue)),
	proto(FnMsgPushData, integer, args(ctx, anything, anything, anything), changesPacket),
	proto(FnMsgPopData, integer, args(ctx, anything, anything, anything), changesPacket),
	proto(FnRcPointerRel, integer, args(ctx, anything, anything), gpl),
	proto(FnSpinLock, void, args(spinLock)),
	proto(FnSpinUnlock, void, args(spinLock)),
	proto(FnSkFullsock, platform.RetSocketOrNull, args(sockCommonA), retStruct(bpfSock)),
	proto(FnTcpSock, platform.RetTCPSockOrNull, args(sockCommonA), retStruct(tcpSock)),
	proto(FnSkbEcnSetCe, integer, args(ctx)),
	proto(FnGetListenerSock, platform.RetSocketOrNull, args(sockCommonA), retStruct(bpfSock)),
	proto(FnSkcLookupTcp, platform.RetSockCommonOrNull, args(ctx, mem, size, anything, anything), acquire, pktAccess, retStruct(sockCommon)),
	proto(FnTcpCheckSyncookie, integer, args(btfSock, mem, size, mem, size), pktAccess),
	proto(FnSysctlGetName, integer, args(ctx, wmem, size, anything)),
	proto(FnSysctlGetCurrentValue, integer, args(ctx, umem, size)),
	proto(FnSysctlGetNewValue, integer, args(ctx, umem, size)),
	proto(FnSysctlSetNewValue, integer, args(ctx, mem, size)),
	proto(FnStrtol, integer, args(mem, size, anything, long)),
	proto(FnStrtoul, integer, args(mem, size, anything, long)),
	proto(FnSkStorageGet, platform.RetMapValueOrNull, args(mapPtr, btfSock, mapValOrNil, anything)),
	proto(FnSkStorageDelete, integer, args(mapPtr, btfSock)),
	proto(FnSendSignal, integer, args(anything), kernelOnly),
	proto(FnTcpGenSyncookie, integer, args(btfSock, mem, size, mem, size), gpl, pktAccess),
	proto(FnSkbOutput, integer, args(btfID, mapPtr, anything, mem, sizeOr0), gpl, kernelOnly, argStruct(1, "sk_buff")),
	proto(FnProbeReadUser, integer, args(umem, sizeOr0, address), gpl, kernelOnly),
	proto(FnProbeReadKernel, integer, args(umem, sizeOr0, address), gpl, kernelOnly),
	proto(FnProbeReadUserStr, integer, args(umem, sizeOr0, address), gpl, kernelOnly),
	proto(FnProbeReadKernelStr, integer, args(umem, sizeOr0, address), gpl, kernelOnly),
	proto(FnTcpSendAck, integer, args(btfID, anything), kernelOnly),
	proto(FnSendSignalThread, integer, args(anything), kernelOnly),
	proto(FnJiffies64, integer, nil),
	proto(FnReadBranchRecords, integer, args(ctx, wmemOrNil, sizeOr0, anything), gpl, kernelOnly),
	proto(FnGetNsCurrentPidTgid, integer, args(anything, anything, umem, size)),
	proto(FnXdpOutput, integer, args(btfID, mapPtr, anything, mem, sizeOr0), gpl, kernelOnly, argStruct(1, "xdp_buff")),
	proto(FnGetNetnsCookie, integer, args(ctxOrNil)),
	proto(FnGetCurrentAncestorCgroupId, integer, args(anything)),
	proto(FnSkAssign, integer, args(ctx, btfSock, anything)),
	proto(FnKtimeGetBootNs, integer, nil),
	proto(FnSeqPrintf, integer, args(btfID, mem, size, memOrNil, sizeOr0), gpl, kernelOnly, argStruct(1, "seq_file")),
	proto(FnSeqWrite, integer, args(btfID, mem, sizeOr0), gpl, kernelOnly, argStruct(1, "seq_file")),
	proto(FnSkCgroupId, integer, args(btfSock)),
	proto(FnSkAncestorCgroupId, integer, args(btfSock, anything)),
	proto(FnRingbufOutput, integer, args(mapPtr, mem, sizeOr0, anything)),
	proto(FnRingbufReserve, platform.RetRingbufMemOrNull, args(mapPtr, allocSize, anything), acquire),
	proto(FnRingbufSubmit, void, args(ringbufMem, anything), releases(1)),
	proto(FnRingbufDiscard, void, args(ringbufMem, anything), releases(1)),
	proto(FnRingbufQuery, integer, args(mapPtr, anything)),
	proto(FnCsumLevel, integer, args(ctx, anything)),
	proto(FnSkcToTcp6Sock, platform.RetBTFIDOrNull, args(btfSock)),
	proto(FnSkcToTcpSock, platform.RetBTFIDOrNull, args(btfSock)),
	proto(FnSkcToTcpTimewaitSock, platform.RetBTFIDOrNull, args(btfSock)),
	proto(FnSkcToTcpRequestSock, platform.RetBTFIDOrNull, args(btfSock)),
	proto(FnSkcToUdp6Sock, platform.RetBTFIDOrNull, args(btfSock)),
	proto(FnGetTaskStack, integer, args(btfID, umem, sizeOr0, anything), kernelOnly, argStruct(1, "task_struct")),
	proto(FnLoadHdrOpt, integer, args(ctx, wmem, size, anything)),
	proto(FnStoreHdrOpt, integer, args(ctx, mem, size, anything), changesPacket),
	proto(FnReserveHdrOpt, integer, args(ctx, anything, anything)),
	proto(FnInodeStorageGet, platform.RetMapValueOrNull, args(mapPtr, btfID, mapValOrNil, anything), kernelOnly),
	proto(FnInodeStorageDelete, integer, args(mapPtr, btfID), kernelOnly),
	proto(FnDPath, integer, args(btfID, umem, sizeOr0), kernelOnly),
	proto(FnCopyFromUser, integer, args(umem, sizeOr0, anything), kernelOnly, mightSleep),
	proto(FnSnprintfBtf, integer, args(wmem, size, mem, size, anything), kernelOnly),
	proto(FnSeqPrintfBtf, integer, args(btfID, mem, sizeOr0, anything), kernelOnly, argStruct(1, "seq_file")),
	proto(FnSkbCgroupClassid, integer, args(ctx)),
	proto(FnRedirectNeigh, integer, args(anything, memOrNil, sizeOr0, anything)),
	proto(FnPerCpuPtr, platform.RetMemOrBTFID, args(btfID, anything), kernelOnly),
	proto(FnThisCpuPtr, platform.RetMemOrBTFID, args(btfID), kernelOnly),
	proto(FnRedirectPeer, integer, args(anything, anything)),
	proto(FnTaskStorageGet, platform.RetMapValueOrNull, args(mapPtr, btfID, mapValOrNil, anything), kernelOnly),
	proto(FnTaskStorageDelete, integer, args(mapPtr, btfID), kernelOnly),
	proto(FnGetCurrentTaskBtf, platform.RetBTFID, nil, gpl, kernelOnly, func(p *platform.HelperProto) { p.RetKernelStruct = "task_struct" }),
	proto(FnBprmOptsSet, integer, args(btfID, anything), kernelOnly),
	proto(FnKtimeGetCoarseNs, integer, nil),
	proto(FnImaInodeHash, integer, args(btfID, umem, size), kernelOnly, mightSleep),
	proto(FnSockFromFile, platform.RetBTFIDOrNull, args(btfID), kernelOnly),
	proto(FnCheckMtu, integer, args(ctx, anything, intPtr, anything, anything)),
	proto(FnForEachMapElem, integer, args(mapPtr, fn, stackOrNil, anything), callback(platform.CallbackForEachMapElem)),
	proto(FnSnprintf, integer, args(wmemOrNil, sizeOr0, constStr, memOrNil, sizeOr0), gpl),
	proto(FnSysBpf, integer, args(anything, mem, size), kernelOnly),
	proto(FnBtfFindByNameKind, integer, args(mem, size, anything, anything), kernelOnly),
	proto(FnSysClose, integer, args(anything), kernelOnly),
	proto(FnTimerInit, integer, args(timer, mapPtr, anything), gpl),
	proto(FnTimerSetCallback, integer, args(timer, fn), gpl, callback(platform.CallbackTimer)),
	proto(FnTimerStart, integer, args(timer, anything, anything), gpl),
	proto(FnTimerCancel, integer, args(timer), gpl),
	proto(FnGetFuncIp, integer, args(ctx), kernelOnly),
	proto(FnGetAttachCookie, integer, args(ctx)),
	proto(FnTaskPtRegs, platform.RetBTFID, args(btfID), kernelOnly, argStruct(1, "task_struct"), func(p *platform.HelperProto) { p.RetKernelStruct = "pt_regs" }),
	proto(FnGetBranchSnapshot, integer, args(umem, sizeOr0, anything), gpl, kernelOnly),
	proto(FnTraceVprintk, integer, args(mem, size, memOrNil, sizeOr0), gpl),
	proto(FnSkcToUnixSock, platform.RetBTFIDOrNull, args(btfSock)),
	proto(FnKallsymsLookupName, integer, args(mem, size, anything, long), kernelOnly),
	proto(FnFindVma, integer, args(btfID, anything, fn, stackOrNil, anything), kernelOnly, callback(platform.CallbackFindVMA)),
	proto(FnLoop, integer, args(anything, fn, stackOrNil, anything), callback(platform.CallbackLoop)),
	proto(FnStrncmp, integer, args(mem, size, constStr)),
	proto(FnGetFuncArg, integer, args(ctx, anything, long), kernelOnly),
	proto(FnGetFuncRet, integer, args(ctx, long), kernelOnly),
	proto(FnGetFuncArgCnt, integer, args(ctx), kernelOnly),
	proto(FnGetRetval, integer, nil),
	proto(FnSetRetval, integer, args(anything)),
	proto(FnXdpGetBuffLen, integer, args(ctx)),
	proto(FnXdpLoadBytes, integer, args(ctx, anything, umem, size)),
	proto(FnXdpStoreBytes, integer, args(ctx, anything, mem, size)),
	proto(FnCopyFromUserTask, integer, args(umem, sizeOr0, anything, btfID, anything), gpl, kernelOnly, mightSleep, argStruct(4, "task_struct")),
	proto(FnSkbSetTstamp, integer, args(ctx, anything, anything)),
	proto(FnImaFileHash, integer, args(btfID, umem, size), kernelOnly, mightSleep),
	proto(FnKptrXchg, platform.RetBTFIDOrNull, args(kptr, btfID), acquire, releases(2), kernelOnly),
	proto(FnMapLookupPercpuElem, platform.RetMapValueOrNull, args(mapPtr, mapKey, anything), pktAccess),
	proto(FnSkcToMptcpSock, platform.RetBTFIDOrNull, args(sockCommonA)),
	proto(FnDynptrFromMem, integer, args(umem, sizeOr0, anything, newDynptr)),
	proto(FnRingbufReserveDynptr, integer, args(mapPtr, anything, anything, newDynptr), acquire),
	proto(FnRingbufSubmitDynptr, void, args(dynptr, anything), releases(1)),
	proto(FnRingbufDiscardDynptr, void, args(dynptr, anything), releases(1)),
	proto(FnDynptrRead, integer, args(umem, sizeOr0, dynptr, anything, anything)),
	proto(FnDynptrWrite, integer, args(dynptr, anything, mem, sizeOr0, anything)),
	proto(FnDynptrData, platform.RetDynptrMemOrNull, args(dynptr, anything, allocSize)),
	proto(FnTcpRawGenSyncookieIpv4, integer, args(fixedMem, mem, size), argSize(1, 20), gpl, pktAccess),
	proto(FnTcpRawGenSyncookieIpv6, integer, args(fixedMem, mem, size), argSize(1, 40), gpl, pktAccess),
	proto(FnTcpRawCheckSyncookieIpv4, integer, args(fixedMem, fixedMem), argSize(1, 20), argSize(2, 20), gpl, pktAccess),
	proto(FnTcpRawCheckSyncookieIpv6, integer, args(fixedMem, fixedMem), argSize(1, 40), argSize(2, 20), gpl, pktAccess),
	proto(FnKtimeGetTaiNs, integer, nil),
	proto(FnUserRingbufDrain, integer, args(mapPtr, fn, stackOrNil, anything), callback(platform.CallbackUserRingbufDrain)),
	proto(FnCgrpStorageGet, platform.RetMapValueOrNull, args(mapPtr, btfID, mapValOrNil, anything), kernelOnly),
	proto(FnCgrpStorageDelete, integer, args(mapPtr, btfID), kernelOnly),
}
