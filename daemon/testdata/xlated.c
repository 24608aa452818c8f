// xlated.c: instructions of many kinds and no helper calls or division by
// a register (which Linux rewrites), so that "prog dump xlated" lists the
// same instructions in the daemon as bpftool does from the kernel, and
// their text can be compared: loads and stores of each size, 32- and
// 64-bit arithmetic, byte swaps, signed comparisons and shifts, atomics
// (not a 32-bit compare-and-exchange, after which Linux zero-extends r0).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

__u64 sum = 0;
__u32 last = 0;

SEC("xdp")
int mix(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u64 old, v;
	__s32 s;
	__u32 x;

	if ((void *)(eth + 1) > end)
		return XDP_ABORTED;
	x = bpf_ntohs(eth->h_proto);
	s = (__s8)eth->h_dest[0];
	v = ((__u64)x << 20) ^ (x * 7) ^ ((__u64)eth->h_source[1] >> 3);
	if (s < -3)
		v = -v;
	else if ((__s64)v > 100000)
		v = (__s64)v >> 2;
	__sync_fetch_and_add(&sum, v);
	old = __sync_fetch_and_or(&sum, 1);
	__sync_lock_test_and_set(&last, x);
	last ^= (__u32)old;
	x = x | 0x10;
	x &= 0xff0f;
	if (x & 0x4)
		return XDP_DROP;
	return x % 4 == 1 ? XDP_TX : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
