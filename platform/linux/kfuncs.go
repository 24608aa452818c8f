package linux

import "github.com/bpfhost/bpfhost/platform"

// Kfuncs bpfhost implements, by the runtime's numbers (platform.KfuncID).
// Programs name them (extern __ksym functions); the loader binds each call
// to its number here. The numbers are bpfhost's own: Linux numbers kfuncs
// by BTF type ID, which differs from kernel to kernel.
const (
	KfuncIterNumNew     platform.KfuncID = 1
	KfuncIterNumNext    platform.KfuncID = 2
	KfuncIterNumDestroy platform.KfuncID = 3
)

// kfuncProtos is the kfunc table: the open-coded number iterator of
// kernel/bpf/bpf_iter.c (Linux 6.4 and later), which libbpf's bpf_for,
// bpf_for_each(num, ...) and bpf_repeat expand to. Linux registers it for
// every program type (BPF_PROG_TYPE_UNSPEC); ProgramTypes nil says so.
//
//	int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end);
//	int *bpf_iter_num_next(struct bpf_iter_num *it);
//	void bpf_iter_num_destroy(struct bpf_iter_num *it);
var kfuncProtos = []*platform.KfuncProto{
	{ID: KfuncIterNumNew, Name: "bpf_iter_num_new", Args: [5]platform.ArgKind{platform.ArgUninitIterNum, anything, anything}, Ret: integer},
	{ID: KfuncIterNumNext, Name: "bpf_iter_num_next", Args: [5]platform.ArgKind{platform.ArgIterNum}, Ret: platform.RetIterNumOrNull},
	{ID: KfuncIterNumDestroy, Name: "bpf_iter_num_destroy", Args: [5]platform.ArgKind{platform.ArgIterNum}, Ret: void, Release: 1},
}

// IterNumMaxLoops is the largest number of values one bpf_iter_num may
// produce (Linux's BPF_MAX_LOOPS): bpf_iter_num_new refuses a longer range
// with -E2BIG, and the iterator then produces none.
const IterNumMaxLoops = 1 << 23
