package platform

import (
	"fmt"
	"sort"
	"strings"
)

// HelperID is the number a program puts in the immediate of a helper call.
// Numbers belong to an ABI; in the Linux ABI they are enum bpf_func_id.
type HelperID int32

// String returns "helper#N"; an ABI knows the name (ABI.HelperName).
func (id HelperID) String() string { return fmt.Sprintf("helper#%d", int32(id)) }

// ArgKind says what a helper expects in one argument register, in the
// spirit of the Linux verifier's enum bpf_arg_type. Kinds that take a memory
// size (Mem, UninitMem, ...) get it from the next argument, which is
// ArgConstSize or ArgConstSizeOrZero.
type ArgKind uint8

// Argument kinds.
const (
	// ArgNone marks an unused argument register.
	ArgNone ArgKind = iota
	// ArgAnything is any initialized value.
	ArgAnything
	// ArgConstMapPtr is a map pointer loaded with lddw (a known map).
	ArgConstMapPtr
	// ArgMapKey points to readable memory of the map's key size (the map is
	// the preceding ArgConstMapPtr).
	ArgMapKey
	// ArgMapValue points to readable memory of the map's value size.
	ArgMapValue
	// ArgMapValueOrNull is ArgMapValue or NULL.
	ArgMapValueOrNull
	// ArgUninitMapValue points to writable memory of the map's value size
	// that need not be initialized (the helper fills it).
	ArgUninitMapValue
	// ArgMem points to initialized readable memory; its size is the next
	// argument.
	ArgMem
	// ArgMemOrNull is ArgMem or NULL (then the size must be 0).
	ArgMemOrNull
	// ArgWritableMem points to initialized memory the helper reads and
	// writes; its size is the next argument.
	ArgWritableMem
	// ArgUninitMem points to writable memory the helper fills; it need not
	// be initialized. Its size is the next argument.
	ArgUninitMem
	// ArgWritableMemOrNull is writable memory the helper fills, or NULL
	// (then the size must be 0); its size is the next argument.
	ArgWritableMemOrNull
	// ArgFixedMem points to readable memory of a size fixed by the
	// prototype (HelperProto.ArgSize).
	ArgFixedMem
	// ArgConstSize is a size known to be positive and bounded.
	ArgConstSize
	// ArgConstSizeOrZero is ArgConstSize that may also be 0.
	ArgConstSizeOrZero
	// ArgConstAllocSizeOrZero is a size, possibly 0, that the helper
	// allocates (ringbuf_reserve); the returned memory has that size.
	ArgConstAllocSizeOrZero
	// ArgCtx is the program's context pointer, unmodified.
	ArgCtx
	// ArgCtxOrNull is ArgCtx or NULL.
	ArgCtxOrNull
	// ArgLong points to 8 writable bytes.
	ArgLong
	// ArgInt points to 4 writable bytes.
	ArgInt
	// ArgConstStr points into a read-only map value (.rodata) holding a
	// NUL-terminated string.
	ArgConstStr
	// ArgFunc is a callback: the address of a BPF function (lddw with
	// src=4). HelperProto.Callback says how it is called.
	ArgFunc
	// ArgStackOrNull points to the stack, or is NULL (callback contexts).
	ArgStackOrNull
	// ArgRingbufMem is a ring buffer record returned by ringbuf_reserve and
	// not yet submitted or discarded; the helper releases it.
	ArgRingbufMem
	// ArgSpinLock points to the struct bpf_spin_lock in a map value.
	ArgSpinLock
	// ArgTimer points to the struct bpf_timer in a map value.
	ArgTimer
	// ArgSocket is a non-NULL socket pointer.
	ArgSocket
	// ArgSocketOrNull is a socket pointer or NULL.
	ArgSocketOrNull
	// ArgSockCommon points to the common part of a socket.
	ArgSockCommon
	// ArgBTFSockCommon is a socket pointer of any flavour, including BTF
	// typed kernel sockets (ARG_PTR_TO_BTF_ID_SOCK_COMMON).
	ArgBTFSockCommon
	// ArgBTFID points to a kernel object typed by BTF (task_struct, file,
	// ...). bpfhost has no such objects: helpers taking one are kernel-only.
	ArgBTFID
	// ArgDynptr points to a struct bpf_dynptr on the stack.
	ArgDynptr
	// ArgUninitDynptr points to stack space the helper initializes as a
	// struct bpf_dynptr.
	ArgUninitDynptr
	// ArgKptr points to a kptr field in a map value.
	ArgKptr
	// ArgAddress is an address the helper reads through without faulting
	// (the source of bpf_probe_read_*): any initialized value, a pointer
	// too, as Linux's ARG_ANYTHING there. The helper reads only memory the
	// run owns, and fails with -EFAULT elsewhere.
	ArgAddress
	// ArgUninitIterNum points to the 8 bytes of a struct bpf_iter_num on
	// the stack, at a constant 8-byte aligned offset, that hold no live
	// iterator: the kfunc (bpf_iter_num_new) makes them one.
	ArgUninitIterNum
	// ArgIterNum points to a live struct bpf_iter_num on the stack, made
	// by bpf_iter_num_new and not yet destroyed.
	ArgIterNum
)

var argKindNames = [...]string{
	ArgNone: "none", ArgAnything: "anything", ArgConstMapPtr: "const_map_ptr",
	ArgMapKey: "map_key", ArgMapValue: "map_value", ArgMapValueOrNull: "map_value_or_null",
	ArgUninitMapValue: "uninit_map_value", ArgMem: "mem", ArgMemOrNull: "mem_or_null",
	ArgWritableMem: "writable_mem", ArgUninitMem: "uninit_mem", ArgWritableMemOrNull: "writable_mem_or_null",
	ArgFixedMem:  "fixed_mem",
	ArgConstSize: "const_size", ArgConstSizeOrZero: "const_size_or_zero",
	ArgConstAllocSizeOrZero: "const_alloc_size_or_zero", ArgCtx: "ctx", ArgCtxOrNull: "ctx_or_null",
	ArgLong: "long", ArgInt: "int", ArgConstStr: "const_str", ArgFunc: "func",
	ArgStackOrNull: "stack_or_null", ArgRingbufMem: "ringbuf_mem", ArgSpinLock: "spin_lock",
	ArgTimer: "timer", ArgSocket: "socket", ArgSocketOrNull: "socket_or_null",
	ArgSockCommon: "sock_common", ArgBTFSockCommon: "btf_sock_common", ArgBTFID: "btf_id",
	ArgDynptr: "dynptr", ArgUninitDynptr: "uninit_dynptr", ArgKptr: "kptr", ArgAddress: "address",
	ArgUninitIterNum: "uninit_iter_num", ArgIterNum: "iter_num",
}

// String returns the kind's name.
func (k ArgKind) String() string {
	if int(k) < len(argKindNames) {
		return argKindNames[k]
	}
	return fmt.Sprintf("arg_kind(%d)", uint8(k))
}

// TakesSize reports whether the kind's memory size is the next argument.
func (k ArgKind) TakesSize() bool {
	switch k {
	case ArgMem, ArgMemOrNull, ArgWritableMem, ArgUninitMem, ArgWritableMemOrNull:
		return true
	}
	return false
}

// IsSize reports whether the kind is a size argument.
func (k ArgKind) IsSize() bool {
	return k == ArgConstSize || k == ArgConstSizeOrZero || k == ArgConstAllocSizeOrZero
}

// RetKind says what a helper returns in r0.
type RetKind uint8

// Return kinds.
const (
	// RetInteger is a scalar.
	RetInteger RetKind = iota
	// RetVoid leaves r0 unreadable.
	RetVoid
	// RetMapValueOrNull points to a value of the map in the first argument,
	// or is NULL; for map-in-map types it is the inner map instead
	// (MapTypeInfo.Lookup says which).
	RetMapValueOrNull
	// RetMapValue is a non-NULL map value pointer (get_local_storage).
	RetMapValue
	// RetRingbufMemOrNull is a ring buffer record of the size in the
	// ArgConstAllocSizeOrZero argument, or NULL; the program must submit or
	// discard it (Acquire is set).
	RetRingbufMemOrNull
	// RetSocketOrNull is a socket pointer or NULL.
	RetSocketOrNull
	// RetSockCommonOrNull is a pointer to a socket's common part, or NULL.
	RetSockCommonOrNull
	// RetTCPSockOrNull is a pointer to struct bpf_tcp_sock, or NULL.
	RetTCPSockOrNull
	// RetBTFIDOrNull is a BTF-typed kernel object pointer or NULL.
	RetBTFIDOrNull
	// RetBTFID is a non-NULL BTF-typed kernel object pointer.
	RetBTFID
	// RetMemOrBTFID is per-CPU data: a BTF object or plain memory.
	RetMemOrBTFID
	// RetDynptrMemOrNull is memory inside a dynptr, or NULL.
	RetDynptrMemOrNull
	// RetIterNumOrNull is NULL when the iterator in the first argument is
	// exhausted, or else a pointer to its current value, an int the
	// program may read and not write (bpf_iter_num_next).
	RetIterNumOrNull
)

var retKindNames = [...]string{
	RetInteger: "integer", RetVoid: "void", RetMapValueOrNull: "map_value_or_null",
	RetMapValue: "map_value", RetRingbufMemOrNull: "ringbuf_mem_or_null",
	RetSocketOrNull: "socket_or_null", RetSockCommonOrNull: "sock_common_or_null",
	RetTCPSockOrNull: "tcp_sock_or_null", RetBTFIDOrNull: "btf_id_or_null", RetBTFID: "btf_id",
	RetMemOrBTFID: "mem_or_btf_id", RetDynptrMemOrNull: "dynptr_mem_or_null",
	RetIterNumOrNull: "iter_num_value_or_null",
}

// String returns the kind's name.
func (k RetKind) String() string {
	if int(k) < len(retKindNames) {
		return retKindNames[k]
	}
	return fmt.Sprintf("ret_kind(%d)", uint8(k))
}

// CallbackKind says how a helper calls its ArgFunc argument: which values
// the callback gets in r1..r5 and what it may return.
type CallbackKind uint8

// Callback kinds.
const (
	// CallbackNone: the helper takes no callback.
	CallbackNone CallbackKind = iota
	// CallbackLoop (bpf_loop): r1 = index (u64 scalar), r2 = the context
	// argument; returns 0 (continue) or 1 (stop).
	CallbackLoop
	// CallbackForEachMapElem (bpf_for_each_map_elem): r1 = map, r2 = key
	// pointer, r3 = value pointer, r4 = the context argument; returns 0
	// (continue) or 1 (stop).
	CallbackForEachMapElem
	// CallbackTimer (bpf_timer_set_callback): r1 = map, r2 = key pointer,
	// r3 = value pointer; returns 0.
	CallbackTimer
	// CallbackFindVMA (bpf_find_vma): r1 = task, r2 = vma (kernel objects),
	// r3 = the context argument; returns 0 or 1.
	CallbackFindVMA
	// CallbackUserRingbufDrain (bpf_user_ringbuf_drain): r1 = dynptr to the
	// sample, r2 = the context argument; returns 0 (continue) or 1 (stop).
	CallbackUserRingbufDrain
)

var callbackKindNames = [...]string{
	CallbackNone: "none", CallbackLoop: "loop", CallbackForEachMapElem: "for_each_map_elem",
	CallbackTimer: "timer", CallbackFindVMA: "find_vma", CallbackUserRingbufDrain: "user_ringbuf_drain",
}

// String returns the kind's name.
func (k CallbackKind) String() string {
	if int(k) < len(callbackKindNames) {
		return callbackKindNames[k]
	}
	return fmt.Sprintf("callback_kind(%d)", uint8(k))
}

// HelperProto is a helper's prototype as the verifier checks it.
type HelperProto struct {
	ID   HelperID
	Name string // "bpf_map_lookup_elem"
	// Args are the kinds of r1..r5; unused registers are ArgNone and come
	// after the used ones.
	Args [5]ArgKind
	// ArgSize gives the byte size of ArgFixedMem arguments.
	ArgSize [5]int
	Ret     RetKind
	// RetStruct describes the structure a socket-like return points to.
	RetStruct *ContextDescriptor
	// RetKernelStruct names the kernel struct a RetBTFID return points to
	// ("task_struct"), found in the kernel's BTF.
	RetKernelStruct string
	// ArgKernelStruct names the kernel struct each ArgBTFID argument points
	// to ("seq_file"), found in the kernel's BTF; a pointer to a struct
	// that holds it at the pointer's offset will do, as in Linux
	// (btf_struct_ids_match). Empty: the verifier refuses the argument.
	ArgKernelStruct [5]string
	// Callback says how an ArgFunc argument is called.
	Callback CallbackKind
	// ChangesPacket: the helper may move or resize the packet, so every
	// packet pointer the program holds becomes invalid after the call.
	ChangesPacket bool
	// PacketAccess: memory arguments may point into the packet (Linux's
	// pkt_access); otherwise packet pointers are refused.
	PacketAccess bool
	// Acquire: the returned pointer is a reference the program must release
	// (sk_release, ringbuf_submit/discard) on every path.
	Acquire bool
	// Release is the 1-based argument the helper releases, or 0.
	Release int
	// GPLOnly: Linux lets only GPL-licensed programs call the helper.
	GPLOnly bool
	// MightSleep: Linux lets only sleepable programs (sections such as
	// "uprobe.s", "fentry.s", "lsm.s", "syscall") call the helper.
	MightSleep bool
	// KernelOnly: the helper works on kernel objects (tasks, files, kernel
	// memory) or kernel state that bpfhost does not have; its prototype is
	// here so the verifier can name it, but a host runtime will not
	// implement it.
	KernelOnly bool
}

// NumArgs returns how many argument registers the helper uses.
func (p *HelperProto) NumArgs() int {
	n := 0
	for i, a := range p.Args {
		if a != ArgNone {
			n = i + 1
		}
	}
	return n
}

// String returns the name and number, e.g. "bpf_map_lookup_elem#1".
func (p *HelperProto) String() string { return fmt.Sprintf("%s#%d", p.Name, int32(p.ID)) }

// Validate checks the prototype's internal consistency: used arguments are
// contiguous, memory arguments are followed by a size, sizes follow memory,
// fixed-size memory has a size, callbacks have a kind. Errors wrap
// ErrInvalidDescriptor.
func (p *HelperProto) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: helper %s: %s", ErrInvalidDescriptor, p, fmt.Sprintf(format, args...))
	}
	if p.Name == "" {
		return bad("no name")
	}
	n := p.NumArgs()
	hasFunc := false
	for i := 0; i < n; i++ {
		a := p.Args[i]
		switch {
		case a == ArgNone:
			return bad("argument %d unused but later ones are used", i+1)
		case a.TakesSize() && (i+1 >= n || !p.Args[i+1].IsSize()):
			return bad("argument %d (%s) is not followed by a size", i+1, a)
		case a == ArgConstSize || a == ArgConstSizeOrZero:
			if i == 0 || !p.Args[i-1].TakesSize() {
				return bad("size argument %d does not follow memory", i+1)
			}
		case a == ArgFixedMem && p.ArgSize[i] <= 0:
			return bad("argument %d is fixed-size memory without a size", i+1)
		case a == ArgFunc:
			hasFunc = true
		}
	}
	if hasFunc != (p.Callback != CallbackNone) {
		return bad("callback kind %s does not match its arguments", p.Callback)
	}
	if p.Release < 0 || p.Release > n {
		return bad("releases argument %d of %d", p.Release, n)
	}
	if p.Ret == RetRingbufMemOrNull && !p.Acquire {
		return bad("returns a ring buffer record without acquiring it")
	}
	return nil
}

// HelperSet is a set of helper IDs: the helpers a program type may call.
type HelperSet map[HelperID]struct{}

// NewHelperSet returns a set holding ids.
func NewHelperSet(ids ...HelperID) HelperSet {
	s := make(HelperSet, len(ids))
	for _, id := range ids {
		s[id] = struct{}{}
	}
	return s
}

// Has reports whether id is in the set.
func (s HelperSet) Has(id HelperID) bool {
	_, ok := s[id]
	return ok
}

// Union returns a new set with the members of s and all others.
func (s HelperSet) Union(others ...HelperSet) HelperSet {
	u := make(HelperSet, len(s))
	for id := range s {
		u[id] = struct{}{}
	}
	for _, o := range others {
		for id := range o {
			u[id] = struct{}{}
		}
	}
	return u
}

// Without returns a new set with the members of s except ids.
func (s HelperSet) Without(ids ...HelperID) HelperSet {
	u := s.Union()
	for _, id := range ids {
		delete(u, id)
	}
	return u
}

// IDs returns the members in increasing order.
func (s HelperSet) IDs() []HelperID {
	ids := make([]HelperID, 0, len(s))
	for id := range s {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// String lists the IDs.
func (s HelperSet) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, id := range s.IDs() {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprint(&b, int32(id))
	}
	b.WriteByte('}')
	return b.String()
}
