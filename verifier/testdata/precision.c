// SPDX-License-Identifier: MIT
// Shapes that need verifier precision beyond plain intervals (issue 11):
// every program here is safe and must be accepted.
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
	__type(value, __u64);
	__uint(max_entries, 64);
} small SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 64);
} recent SEC(".maps");


// Set from user space; a plain global, so its value is unknown here.
__u32 rounds = 16;

// clang turns the exit test i < 64 into r == 448 on the strided key.
SEC("xdp")
int loop_equality_exit(struct xdp_md *ctx)
{
	__u32 seed = bpf_get_prandom_u32() & 0xff;
	__u64 sum = 0;
	for (__u32 i = 0; i < 64; i++) {
		__u32 key = seed + i * 7;
		__u64 *v = bpf_map_lookup_elem(&table, &key);
		if (v)
			sum += *v;
	}
	return sum & 1 ? XDP_PASS : XDP_DROP;
}

// A stack array indexed by a strided counter that ends on equality.
SEC("xdp")
int loop_stride_array(struct xdp_md *ctx)
{
	__u8 buf[64] = {};
	__u32 x = bpf_get_prandom_u32();
	for (__u32 i = 0; i < 64; i += 4)
		buf[i] = x >> (i & 31);
	return buf[x & 63] ? XDP_PASS : XDP_DROP;
}

static int add_one(__u32 i, void *ctx)
{
	__u64 *sum = ctx;
	*sum += i;
	return 0;
}

// The count comes from a global variable: bpf_loop itself fails with
// -E2BIG when it exceeds 1 << 23.
SEC("xdp")
int loop_global_count(struct xdp_md *ctx)
{
	__u64 sum = 0;
	bpf_loop(rounds, add_one, &sum, 0);
	return sum & 1 ? XDP_PASS : XDP_DROP;
}

// One of two maps, chosen on a path: the helper gets either.
SEC("xdp")
int map_either(struct xdp_md *ctx)
{
	__u32 key = bpf_get_prandom_u32() & 63;
	__u64 val = 1;
	void *m = &small;
	if (key & 1)
		m = &recent;
	bpf_map_update_elem(m, &key, &val, BPF_ANY);
	__u64 *v = bpf_map_lookup_elem(m, &key);
	return v && *v ? XDP_PASS : XDP_DROP;
}

// The offset of the second read comes from the packet itself.
SEC("xdp")
int dependent_read(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	if (data + 1 > end)
		return XDP_DROP;
	__u8 off = *(__u8 *)data;
	if (data + 1 + off + 2 > end)
		return XDP_DROP;
	__u16 v = *(__u16 *)(data + 1 + off);
	return v ? XDP_PASS : XDP_DROP;
}

// A header pointer set on one path and NULL on the other (the barrier keeps
// clang from splitting the paths again), checked before it is used.
SEC("xdp")
int header_or_null(struct xdp_md *ctx)
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
	__u32 key = bpf_get_prandom_u32() & 63;
	__u64 *v = bpf_map_lookup_elem(&table, &key);
	if (v)
		*v += 1;
	if (ip && ip->ttl < 2)
		return XDP_DROP;
	return XDP_PASS;
}

// Path sensitivity (issue 11, decision 0020). Each shape below is safe only
// because a later test repeats a decision an earlier one made: a join of the
// two paths would lose what the second test needs.

// A lookup made on one path only (NULL on the other), used again under the
// same condition, as Cilium's NodePort code does with its CT entries.
SEC("xdp")
int lookup_retested(struct xdp_md *ctx)
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
	key = bpf_get_prandom_u32() & 63;
	__u64 *w = bpf_map_lookup_elem(&small, &key);
	if (w)
		*w += 1;
	if (flag)
		*v += 1;
	return XDP_PASS;
}

// The same register holds a packet pointer on one path and a number on the
// other; a flag says which.
SEC("xdp")
int pointer_or_number(struct xdp_md *ctx)
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
	__u32 key = bpf_get_prandom_u32() & 63;
	__u64 *w = bpf_map_lookup_elem(&small, &key);
	if (w)
		*w += 1;
	if (flag)
		return *(__u8 *)(x + 15) ? XDP_PASS : XDP_DROP;
	return x & 1 ? XDP_PASS : XDP_DROP;
}

// Each protocol proves its own header length; the reads after the join
// depend on the protocol again.
SEC("xdp")
int packet_range_per_path(struct xdp_md *ctx)
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
	__u32 key = bpf_get_prandom_u32() & 63;
	__u64 *w = bpf_map_lookup_elem(&small, &key);
	if (w)
		*w += 1;
	if (proto == bpf_htons(ETH_P_IP))
		return ((struct iphdr *)(data + sizeof(*eth)))->ttl > 1 ? XDP_PASS : XDP_DROP;
	return ((struct ipv6hdr *)(data + sizeof(*eth)))->daddr.s6_addr[15] > 1 ? XDP_PASS : XDP_DROP;
}

// A variable offset proven on one path: the option length read from the
// packet is checked only when the flag asks for the option.
SEC("xdp")
int packet_offset_per_path(struct xdp_md *ctx)
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
	__u32 key = bpf_get_prandom_u32() & 63;
	__u64 *w = bpf_map_lookup_elem(&small, &key);
	if (w)
		*w += 1;
	if (flag)
		return *(__u16 *)opt ? XDP_PASS : XDP_DROP;
	return XDP_PASS;
}

// A counter that steps by 5 and ends on equality is the packet offset read
// in the body: its range at the loop head comes from the trip count proof
// (stride.go).
SEC("xdp")
int loop_stride_offset(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	if (data + 200 > end)
		return XDP_DROP;
	__u32 sum = 0;
	for (__u32 i = 0; i < 40; i++)
		sum += *(__u8 *)(data + i * 5) + bpf_get_prandom_u32();
	return sum & 1 ? XDP_PASS : XDP_DROP;
}

// The L4 header starts at a different offset per protocol and each path
// proves its own header's length past it; after the join the protocol is
// tested again and each header read.
SEC("xdp")
int l4_per_protocol(struct xdp_md *ctx)
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
	__u32 key = bpf_get_prandom_u32() & 63;
	__u64 *w = bpf_map_lookup_elem(&small, &key);
	if (w)
		*w += 1;
	if (flag)
		return ((struct udphdr *)l4)->check ? XDP_PASS : XDP_DROP;
	return ((struct tcphdr *)l4)->window ? XDP_PASS : XDP_DROP;
}

// A constant key below max_entries: the lookup cannot fail (Linux 6.14 and
// later drop the NULL check; programs written for them do too).
SEC("xdp")
int array_const_key(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&table, &key);
	*v += 1;
	return XDP_PASS;
}

// An entry found in a map, or a default on the stack when there is none
// (Cilium's SNAT state): either way it is read and written the same way.
SEC("xdp")
int map_value_or_stack(struct xdp_md *ctx)
{
	__u32 key = bpf_get_prandom_u32() & 63;
	__u64 tmp = 0;
	__u64 *state = bpf_map_lookup_elem(&small, &key);
	if (!state)
		state = &tmp;
	asm volatile("" : "+r"(state));
	*state += key;
	return *state & 1 ? XDP_PASS : XDP_DROP;
}

// As lookup_retested, with a loop between the lookup and its use: the
// paths stay apart through the loop.
SEC("xdp")
int lookup_retested_after_loop(struct xdp_md *ctx)
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
		__u64 *w = bpf_map_lookup_elem(&small, &k);
		if (w)
			sum += *w;
	}
	if (flag)
		*v += sum;
	return XDP_PASS;
}

#define __naked __attribute__((naked))
#define __imm(name) [name] "i"(name)

// A stack slot holds a packet pointer on one path and a number on the
// other (a spill under register pressure); after a helper call the slot is
// read back and used as what the flag says it is.
SEC("xdp") __naked int spilled_pointer_or_number(void)
{
	asm volatile (
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
	"if r8 == 0 goto 3f;"
	"r0 = *(u8 *)(r7 + 15); r0 &= 1; r0 += 1; exit;"
	"3: r0 = r7; r0 &= 1; r0 += 1; exit;"
	"9: r0 = 1; exit;"
	:: __imm(bpf_get_prandom_u32) : "memory");
}

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

// One of two ring buffer records, chosen on a path, is written before
// either is submitted: on each path it is a record still held.
SEC("xdp") __naked int ringbuf_either_record(void)
{
	asm volatile (
	"r1 = %[events] ll; r2 = 16; r3 = 0; call %[bpf_ringbuf_reserve];"
	"if r0 == 0 goto 9f;"
	"r7 = r0;"
	"r1 = %[events] ll; r2 = 16; r3 = 0; call %[bpf_ringbuf_reserve];"
	"if r0 != 0 goto 1f;"
	"r1 = r7; r2 = 0; call %[bpf_ringbuf_discard]; goto 9f;"
	"1: r8 = r0;"
	"call %[bpf_get_prandom_u32];"
	"r6 = r7;"
	"if r0 > 100 goto 2f;"
	"r6 = r8;"
	"2: r1 = 65; *(u64 *)(r6 + 0) = r1;"
	"r1 = r7; r2 = 0; call %[bpf_ringbuf_submit];"
	"r1 = r8; r2 = 0; call %[bpf_ringbuf_submit];"
	"9: r0 = 2; exit;"
	:: __imm(bpf_ringbuf_reserve), __imm(bpf_ringbuf_submit), __imm(bpf_ringbuf_discard), __imm(bpf_get_prandom_u32), [events] "i"(&events) : "memory");
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
