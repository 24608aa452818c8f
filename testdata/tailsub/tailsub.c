// SPDX-License-Identifier: MIT
// Tail calls made in BPF-to-BPF subprograms, which Linux (x86-64 JIT)
// runs in place of the subprogram: the target's r0 goes back to the
// subprogram's caller. The first two packet bytes choose the slot and the
// call path; every program counts what it sees in global data, so that a
// run's path shows in the maps as well as in its result
// (docs/decisions/0024-tail-calls-in-subprograms.md).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

__u64 seen[4] = {}; // runs of target, forward and recur; tail calls that failed in pick
__u64 got[2] = {};  // sums of what entry's calls returned, by path
__u64 low = 0;      // results of pick below 50: only a tail call returns them

int target(struct xdp_md *ctx);
int forward(struct xdp_md *ctx);
int recur(struct xdp_md *ctx);

// Slot 3 stays empty; indexes from 4 are out of range.
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int(void *));
} jt SEC(".maps") = {
	.values = {[0] = (void *)&target, [1] = (void *)&forward, [2] = (void *)&recur},
};

SEC("xdp")
int target(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&seen[0], 1);
	return 3;
}

// Tail-calls target from its main function: in a subprogram's place, the
// chain goes on there.
SEC("xdp")
int forward(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&seen[1], 1);
	bpf_tail_call(ctx, &jt, 0);
	return 1;
}

// The tail call of a subprogram, nested: each run calls recur_sub, whose
// tail call starts recur again in recur_sub's place, until the run's 33
// tail calls are spent; then recur_sub returns 100, and every recur adds 1
// to what its recur_sub returned.
static __attribute__((noinline)) int recur_sub(struct xdp_md *ctx)
{
	int r = 100;
	bpf_tail_call(ctx, &jt, 2);
	// Opaque to clang, which does not know that a tail call may return
	// from here with another value and would fold the 100 into recur.
	asm volatile("" : "+r"(r));
	return r;
}

SEC("xdp")
int recur(struct xdp_md *ctx)
{
	volatile __u64 mark = 0x5eed; // in recur's frame, across the call
	__sync_fetch_and_add(&seen[2], 1);
	int r = recur_sub(ctx);
	if (mark != 0x5eed)
		return -1;
	return r + 1;
}

static __attribute__((noinline)) int pick(struct xdp_md *ctx, __u32 slot)
{
	int r;
	bpf_tail_call(ctx, &jt, slot);
	__sync_fetch_and_add(&seen[3], 1);
	// A verifier that ignores the taken tail call sees only 50 + slot
	// returned; clang would too, and drop entry's test of it.
	r = 50 + slot;
	asm volatile("" : "+r"(r));
	return r;
}

static __attribute__((noinline)) int deeper(struct xdp_md *ctx, __u32 slot)
{
	volatile __u64 mark = 0xfeed;
	int r = pick(ctx, slot);
	if (mark != 0xfeed)
		return -1;
	return r * 2;
}

SEC("xdp")
int entry(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data;
	if (data + 2 > data_end)
		return XDP_ABORTED;
	__u32 slot = p[0], how = p[1] & 1;
	int r;
	if (how) {
		r = deeper(ctx, slot);
	} else {
		r = pick(ctx, slot);
		if (r < 50)
			__sync_fetch_and_add(&low, 1);
	}
	__sync_fetch_and_add(&got[how], r);
	return r;
}

// The nested tail calls spend the run's 33: the main function's own tail
// call afterwards fails.
SEC("xdp")
int spent(struct xdp_md *ctx)
{
	int r = pick(ctx, 2);
	bpf_tail_call(ctx, &jt, 0);
	return r + 1000;
}
