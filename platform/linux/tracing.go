package linux

import (
	"fmt"

	"github.com/bpfhost/bpfhost/platform"
)

// ptRegsNames are the members of x86-64's struct pt_regs, 8 bytes each, in
// order, as <asm/ptrace.h> names them for user space.
var ptRegsNames = []string{"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
	"rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss"}

// ptRegs is the kprobe context: x86-64 struct pt_regs (168 bytes), whatever
// the host architecture, because objects built with libbpf's PT_REGS_*
// macros for x86 (the common case, __TARGET_ARCH_x86) read this layout.
// kprobe_prog_is_valid_access allows aligned reads of any width.
var ptRegs = func() *platform.ContextDescriptor {
	d := &platform.ContextDescriptor{Name: "pt_regs", CType: "struct pt_regs", Size: 168,
		Doc: "x86-64 struct pt_regs (asm/ptrace.h); read-only; other architectures' layouts are not modelled"}
	for i, n := range ptRegsNames {
		d.Fields = append(d.Fields, ro(n, 8*i, 8, any8))
	}
	return d
}()

// perfEventData is struct bpf_perf_event_data on x86-64: the registers
// (read as whole longs) then sample_period and addr (narrow loads allowed),
// per pe_prog_is_valid_access.
var perfEventData = func() *platform.ContextDescriptor {
	d := &platform.ContextDescriptor{Name: "bpf_perf_event_data", CType: "struct bpf_perf_event_data", Size: 184,
		Doc: "linux/bpf_perf_event.h struct bpf_perf_event_data with x86-64 pt_regs; read-only"}
	for i, n := range ptRegsNames {
		d.Fields = append(d.Fields, ro("regs."+n, 8*i, 8, s8))
	}
	d.Fields = append(d.Fields, ro("sample_period", 168, 8, any8), ro("addr", 176, 8, any8))
	return d
}()

// tracepointMaxSize is PERF_MAX_TRACE_SIZE: tracepoint programs may read
// up to this offset.
const tracepointMaxSize = 2048

// tracepointCtx is the raw record of a perf tracepoint. Its layout is the
// event's format file (/sys/kernel/tracing/events/*/*/format); the verifier
// only bounds it: tp_prog_is_valid_access allows aligned reads of any width
// from offset 8 up to PERF_MAX_TRACE_SIZE, and forbids the 8-byte common
// header (type, flags, preempt count, pid).
var tracepointCtx = &platform.ContextDescriptor{
	Name: "trace_event_raw", Size: tracepointMaxSize,
	Fields: []platform.ContextField{ro("data", 8, tracepointMaxSize-8, any8)},
	Doc:    "tracepoint record after the common header; the real size is the event's, checked only up to PERF_MAX_TRACE_SIZE",
}

// maxFuncArgs is MAX_BPF_FUNC_ARGS: raw tracepoints and BTF-typed tracing
// programs see at most this many u64 arguments.
const maxFuncArgs = 12

// rawTracepointArgs is struct bpf_raw_tracepoint_args: an array of u64
// arguments. The real count depends on the tracepoint and Linux checks it
// when attaching; here it is bounded by MAX_BPF_FUNC_ARGS.
var rawTracepointArgs = &platform.ContextDescriptor{
	Name: "bpf_raw_tracepoint_args", Size: 8 * maxFuncArgs,
	Fields: []platform.ContextField{ro("args", 0, 8*maxFuncArgs, any8)},
	Doc:    "u64 args[]; the count is the tracepoint's (checked at attach in Linux), bounded here by MAX_BPF_FUNC_ARGS=12",
}

// rawTracepointWritableArgs is the writable raw tracepoint's context: the
// first argument points to a buffer the program may write.
var rawTracepointWritableArgs = &platform.ContextDescriptor{
	Name: "bpf_raw_tracepoint_args", Size: 8 * maxFuncArgs,
	Fields: []platform.ContextField{
		ptr("args[0]", 0, 8, platform.FieldTPBuffer, nil),
		ro("args[1]", 8, 8*(maxFuncArgs-1), any8),
	},
	Doc: "like raw_tracepoint, with args[0] a pointer to the tracepoint's writable buffer",
}

// btfArgs is the context of BTF-typed programs (fentry, fexit, tp_btf,
// fmod_ret, iter, lsm, struct_ops, freplace): u64 args[12], each an
// argument of the traced function (fexit and fmod_ret add the return value
// after the last argument). Linux types pointer arguments by BTF and lets
// programs dereference them; here every argument is a scalar read whole,
// so such dereferences are rejected, which is conservative.
var btfArgs = func() *platform.ContextDescriptor {
	d := &platform.ContextDescriptor{Name: "btf_func_args", Size: 8 * maxFuncArgs,
		Doc: "u64 args[12] of a BTF-typed attach point; pointer arguments are modelled as scalars"}
	for i := 0; i < maxFuncArgs; i++ {
		d.Fields = append(d.Fields, ro(fmt.Sprintf("args[%d]", i), 8*i, 8, s8))
	}
	return d
}()

// nfCtx is struct bpf_nf_ctx, the netfilter program context: two pointers
// to kernel objects (nf_hook_state and sk_buff), typed by BTF and used
// through kfuncs. It is not a UAPI structure.
var nfCtx = &platform.ContextDescriptor{
	Name: "bpf_nf_ctx", Size: 16,
	Fields: []platform.ContextField{
		ptr("state", 0, 8, platform.FieldBTFPointer, nil),
		ptr("skb", 8, 8, platform.FieldBTFPointer, nil),
	},
	Doc: "include/linux/filter.h struct bpf_nf_ctx; both fields point to kernel objects",
}

// syscallCtxMax is the largest context a syscall program accepts (U16_MAX).
const syscallCtxMax = 1<<16 - 1

// syscallCtx is the context of syscall programs: a buffer of the caller's
// choosing (ctx_in of BPF_PROG_RUN), readable and writable at any aligned
// offset below U16_MAX. The actual size is known only at run time.
var syscallCtx = &platform.ContextDescriptor{
	Name: "syscall_ctx", Size: syscallCtxMax,
	Fields: []platform.ContextField{field("data", 0, syscallCtxMax, any8, any8)},
	Doc:    "caller-provided buffer; Linux checks the real size at run time (ctx_size_in)",
}

// lircSample is the context of lirc_mode2 programs: one u32 sample.
var lircSample = &platform.ContextDescriptor{
	Name: "lirc_sample", Size: 4,
	Fields: []platform.ContextField{ro("sample", 0, 4, s4)},
	Doc:    "u32 LIRC_MODE2 sample (lirc_mode2_is_valid_access)",
}
