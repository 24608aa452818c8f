// SPDX-License-Identifier: MIT
// Benchmark programs, run by bpfhost and by the Linux kernel on the same
// 64-byte input (bench_test.go, run.sh).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

// Per-run overhead: nothing to do.
SEC("xdp")
int trivial(struct xdp_md *ctx)
{
	return XDP_PASS;
}

// A 1,000-iteration arithmetic loop: xorshift, multiply-add and a
// data-dependent branch.
SEC("xdp")
int arith_loop(struct xdp_md *ctx)
{
	__u64 x = ctx->data_end - ctx->data + 0x9e3779b97f4a7c15ULL, acc = 0;
	for (int i = 0; i < 1000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		acc = acc * 31 + x;
		if (x & 1)
			acc += 7;
	}
	return (__u32)acc; // every bit, so that tests can compare engines
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1024);
} table SEC(".maps");

// 64 lookups in a 1,024-entry hash map (filled by the benchmark).
SEC("xdp")
int hash_lookups(struct xdp_md *ctx)
{
	__u64 sum = 0;
	for (__u32 i = 0; i < 64; i++) {
		__u32 key = i * 16;
		__u64 *v = bpf_map_lookup_elem(&table, &key);
		if (v)
			sum += *v;
	}
	return (__u32)sum; // 3 * (0 + 16 + ... + 1008) when every lookup hits
}

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

// One 64-byte ring buffer record per run; a user-space reader consumes them.
SEC("xdp")
int ringbuf_out(struct xdp_md *ctx)
{
	__u64 rec[8] = {ctx->data_end - ctx->data};
	bpf_ringbuf_output(&events, rec, sizeof(rec), 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
