// SPDX-License-Identifier: MIT
// Unsafe variants of the shapes in precision.c: each program must be
// rejected, its first finding on the line marked REJECT.
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 512);
} table SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 64);
} narrow SEC(".maps");

__u32 rounds = 16;

// The end is unknown: no constant proposes a trip count.
SEC("xdp")
int loop_no_bound(struct xdp_md *ctx)
{
	__u32 n = bpf_get_prandom_u32();
	__u64 sum = 0;
	for (__u64 k = 0; k != n; k += 7) {
		__u32 key = k; // REJECT: loop may not terminate
		__u64 *v = bpf_map_lookup_elem(&table, &key);
		if (v)
			sum += *v;
	}
	return sum & 1 ? XDP_PASS : XDP_DROP;
}

// 450 is not a multiple of 8: the counter steps over it forever (clang
// sees it and drops the exit; looptrip_test.go keeps the test).
SEC("xdp")
int loop_stride_skips(struct xdp_md *ctx)
{
	__u64 sum = 0;
	for (__u64 k = 0; k != 450; k += 8) {
		__u32 key = k; // REJECT: loop may not terminate
		__u64 *v = bpf_map_lookup_elem(&table, &key);
		if (v)
			sum += *v;
	}
	return sum & 1 ? XDP_PASS : XDP_DROP;
}

// 450 is not a multiple of 7: the 32-bit counter reaches it only after
// wrapping around, some 600 million trips later.
SEC("xdp")
int loop_stride_wraps(struct xdp_md *ctx)
{
	__u64 sum = 0;
	for (__u32 k = 0; k != 450; k += 7) {
		__u32 key = k; // REJECT: loop may not terminate
		__u64 *v = bpf_map_lookup_elem(&table, &key);
		if (v)
			sum += *v;
	}
	return sum & 1 ? XDP_PASS : XDP_DROP;
}

struct counts {
	__u64 n[16];
};

static int count_one(__u32 i, void *ctx)
{
	struct counts *c = ctx;
	c->n[i]++; // REJECT: outside the 512-byte frame
	return 0;
}

// The callback's index is below the count, which may be up to 1 << 23.
SEC("xdp")
int loop_global_overflow(struct xdp_md *ctx)
{
	struct counts c = {};
	bpf_loop(rounds, count_one, &c, 0);
	return c.n[0] ? XDP_PASS : XDP_DROP;
}

// A value of either map is as long as the shorter one's: 4 bytes.
SEC("xdp")
int map_either_short(struct xdp_md *ctx)
{
	__u32 key = bpf_get_prandom_u32() & 63;
	void *m = &table;
	if (key & 1)
		m = &narrow;
	__u64 *v = bpf_map_lookup_elem(m, &key);
	if (!v)
		return XDP_DROP;
	*v = 1; // REJECT: map narrow or table value
	return XDP_PASS;
}

// Only queues and stacks take pushes: a helper must suit every map it may get.
SEC("xdp")
int map_either_push(struct xdp_md *ctx)
{
	__u32 key = bpf_get_prandom_u32() & 63;
	void *m = &table;
	if (key & 1)
		m = &narrow;
	__u64 val = key;
	bpf_map_push_elem(m, &val, 0); // REJECT: bpf_map_push_elem cannot be used on map
	return XDP_PASS;
}

// The header pointer may be NULL: it is used without a check.
SEC("xdp")
int header_or_null_unchecked(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = NULL;
	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > end)
			return XDP_DROP;
	}
	asm volatile("" : "+r"(ip));
	return ip->ttl < 2 ? XDP_DROP : XDP_PASS; // REJECT: NULL
}

// The lookup is used on the path where it was not made.
SEC("xdp")
int lookup_retested_wrong(struct xdp_md *ctx)
{
	__u32 key = bpf_get_prandom_u32() & 63;
	__u32 flag = bpf_get_prandom_u32() & 1;
	__u64 *v = NULL;
	if (flag) {
		v = bpf_map_lookup_elem(&table, &key);
		if (!v)
			return XDP_ABORTED;
	}
	asm volatile("" : "+r"(v), "+r"(flag));
	if (!flag)
		*v += 1; // REJECT: NULL
	return XDP_PASS;
}

// The number is read as a pointer on the path where it is a number.
SEC("xdp")
int pointer_or_number_wrong(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 flag = bpf_get_prandom_u32() & 1;
	long x;
	if (flag) {
		if (data + 16 > end)
			return XDP_DROP;
		x = (long)data;
	} else {
		x = bpf_get_prandom_u32();
	}
	asm volatile("" : "+r"(x), "+r"(flag));
	if (!flag)
		return *(__u8 *)(x + 15) ? XDP_PASS : XDP_DROP; // REJECT: not a pointer
	return XDP_PASS;
}

// The IPv6 destination is read on the IPv4 path, which proved 34 bytes only.
SEC("xdp")
int packet_range_per_path_wrong(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	__u16 proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_IP)) {
		if (data + sizeof(*eth) + sizeof(struct iphdr) > end)
			return XDP_DROP;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		if (data + sizeof(*eth) + sizeof(struct ipv6hdr) > end)
			return XDP_DROP;
	} else {
		return XDP_PASS;
	}
	asm volatile("" : "+r"(proto), "+r"(data));
	if (proto == bpf_htons(ETH_P_IP))
		return ((struct ipv6hdr *)(data + sizeof(*eth)))->daddr.s6_addr[15] > 1 ? XDP_PASS : XDP_DROP; // REJECT: packet read
	return XDP_PASS;
}

// The option is read when the flag did not ask for its check.
SEC("xdp")
int packet_offset_per_path_wrong(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	if (data + 1 > end)
		return XDP_DROP;
	void *opt = data + 1 + *(__u8 *)data;
	__u32 flag = bpf_get_prandom_u32() & 1;
	if (flag) {
		if (opt + 2 > end)
			return XDP_DROP;
	}
	asm volatile("" : "+r"(opt), "+r"(flag));
	if (!flag)
		return *(__u16 *)opt ? XDP_PASS : XDP_DROP; // REJECT: packet read
	return XDP_PASS;
}

// One trip too many: the last read is at offset 200, past the 200 bytes
// proven.
SEC("xdp")
int loop_stride_offset_past(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	if (data + 200 > end)
		return XDP_DROP;
	__u32 sum = 0;
	for (__u32 i = 0; i < 41; i++)
		sum += *(__u8 *)(data + i * 5) + bpf_get_prandom_u32(); // REJECT: packet read
	return sum & 1 ? XDP_PASS : XDP_DROP;
}

// The TCP window is read on the UDP path, which proved 8 bytes only.
SEC("xdp")
int l4_per_protocol_wrong(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 flag = bpf_get_prandom_u32() & 1;
	void *l4;
	if (flag) {
		l4 = data + sizeof(struct ethhdr) + sizeof(struct iphdr);
		if (l4 + sizeof(struct udphdr) > end)
			return XDP_DROP;
	} else {
		l4 = data + sizeof(struct ethhdr) + sizeof(struct ipv6hdr);
		if (l4 + sizeof(struct tcphdr) > end)
			return XDP_DROP;
	}
	asm volatile("" : "+r"(l4), "+r"(flag));
	if (flag)
		return ((struct tcphdr *)l4)->window ? XDP_PASS : XDP_DROP; // REJECT: packet read
	return XDP_PASS;
}

// The key is max_entries: the lookup fails.
SEC("xdp")
int array_key_past_end(struct xdp_md *ctx)
{
	__u32 key = 512;
	__u64 *v = bpf_map_lookup_elem(&table, &key);
	*v += 1; // REJECT: NULL
	return XDP_PASS;
}

// The key is 0 as the low half of an 8-byte zero: a 4-byte key read from
// an 8-byte spill, which Linux does not take as a constant key
// (get_constant_map_key wants a spill as wide as the key), so it keeps the
// NULL check; bpfhost accepted it (found by the precision differential).
SEC("xdp")
int array_key_wide_zero(struct xdp_md *ctx)
{
	__u64 key = 0;
	__u64 *v = bpf_map_lookup_elem(&table, &key);
	*v += 1; // REJECT: NULL
	return XDP_PASS;
}

// A hash map's lookup may fail whatever the key.
SEC("xdp")
int hash_const_key(struct xdp_md *ctx)
{
	__u32 key = 7;
	__u32 *v = bpf_map_lookup_elem(&narrow, &key);
	*v += 1; // REJECT: NULL
	return XDP_PASS;
}

// The lookup is used after the loop on the path where it was not made.
SEC("xdp")
int lookup_retested_after_loop_wrong(struct xdp_md *ctx)
{
	__u32 key = bpf_get_prandom_u32() & 63;
	__u32 flag = bpf_get_prandom_u32() & 1;
	__u64 *v = NULL;
	if (flag) {
		v = bpf_map_lookup_elem(&table, &key);
		if (!v)
			return XDP_ABORTED;
	}
	asm volatile("" : "+r"(v), "+r"(flag));
	__u64 sum = 0;
#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < 8; i++) {
		__u32 k = (key + i) & 63;
		__u32 *w = bpf_map_lookup_elem(&narrow, &k);
		if (w)
			sum += *w;
	}
	if (!flag)
		*v += sum; // REJECT: NULL
	return XDP_PASS;
}

#define __naked __attribute__((naked))
#define __imm(name) [name] "i"(name)

// The slot is read through on the path where it holds the number.
SEC("xdp") __naked int spilled_pointer_or_number_wrong(void)
{
	asm volatile ( // REJECT: not a pointer
	"r6 = r1;"
	"call %[bpf_get_prandom_u32];"
	"r8 = r0; r8 &= 1;"
	"r2 = *(u32 *)(r6 + 0); r3 = *(u32 *)(r6 + 4);"
	"r4 = r2; r4 += 16; if r4 > r3 goto 9f;"
	"if r8 == 0 goto 1f;"
	"*(u64 *)(r10 - 8) = r2;"
	"goto 2f;"
	"1: r1 = 77; *(u64 *)(r10 - 8) = r1;"
	"2: call %[bpf_get_prandom_u32];"
	"r7 = *(u64 *)(r10 - 8);"
	"if r8 != 0 goto 3f;"
	"r0 = *(u8 *)(r7 + 15); r0 &= 1; r0 += 1; exit;"
	"3: r0 = r7; r0 &= 1; r0 += 1; exit;"
	"9: r0 = 1; exit;"
	:: __imm(bpf_get_prandom_u32) : "memory");
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
