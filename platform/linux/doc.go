// Package linux is the Linux eBPF ABI as platform data: program types
// numbered as enum bpf_prog_type with libbpf's ELF section names, the context
// structures of linux/bpf.h with the kernel verifier's access rules for each
// program type, prototypes for all 211 helpers of enum bpf_func_id and the
// helper set each program type may call, and the map types of enum
// bpf_map_type.
//
// The facts come from the UAPI headers (struct layouts, enum values), the
// kernel's is_valid_access and get_func_proto functions (v6.1 to v6.8) and
// libbpf's section table. Where bpfhost simplifies, the descriptor's Doc says
// so. The main simplifications: kprobe and perf_event contexts use the x86-64
// pt_regs layout whatever the host; BTF-typed pointers (fentry arguments,
// kernel objects) are scalars or KernelOnly helpers; helper sets are those of
// a loader with CAP_BPF and CAP_PERFMON; where Linux has several prototypes
// for one helper ID, the common one is given.
//
// ABI returns the shared, validated platform.ABI; Lookup, ByName, ByType,
// HelperByID and the other functions are shorthands for its methods.
//
// bpfhost runs these program types itself, and this package defines the Go
// structures their contexts live in: XDPContext (xdp), SKBContext
// (socket_filter, sched_cls, sched_act, cgroup_skb, lwt_*, sk_skb,
// flow_dissector), SockAddrContext (cgroup_sock_addr) and SockContext
// (cgroup_sock, and what socket pointers point to). The Generic program type
// (bpfhost_generic, number platform.HostProgramTypeBase) has no context: r1
// points to a buffer and r2 holds its length.
package linux
