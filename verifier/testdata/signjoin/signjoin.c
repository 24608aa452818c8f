// SPDX-License-Identifier: MIT
// Shapes of Cilium's datapath (bpf_lxc, bpf_host, bpf_overlay, bpf_xdp)
// that Linux accepts by following paths, written anew: each program here
// must be accepted (TestSignJoinShapes; TestSignJoinKernel checks Linux
// does). signjoin_unsafe.c has their unsafe variants.
#include "../common.h"

#define __naked __attribute__((naked))
#define __imm(name) [name] "i"(name)
#define __imm_addr(name) [name] "i"(&name)

struct small {
	__u8 addr[6];
	__u16 port;
};

struct big {
	__u64 pad[4];
	__u8 addr[6];
	__u16 port;
	__u32 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct small);
	__uint(max_entries, 16);
} smalls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct big);
	__uint(max_entries, 16);
} bigs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64[2]);
	__uint(max_entries, 1);
} scratch SEC(".maps");

// A field of a value of one of two maps, at a different offset in each
// (a reverse NAT entry or a SNAT entry): the join is a value of either map
// at offset 0 or 32, which reads past the smaller value at 32; each path
// reads inside its own.
SEC("tc")
int either_map_field(struct __sk_buff *skb)
{
	__u32 key = skb->mark;
	const __u8 *addr;
	__u8 buf[8];

	if (skb->priority & 1) {
		struct small *s = bpf_map_lookup_elem(&smalls, &key);

		if (!s)
			return TC_ACT_OK;
		asm volatile("" : "+r"(s));
		addr = s->addr;
	} else {
		struct big *b = bpf_map_lookup_elem(&bigs, &key);

		if (!b)
			return TC_ACT_UNSPEC;
		asm volatile("" : "+r"(b));
		addr = b->addr;
	}
	asm volatile("" : "+r"(addr));
	__builtin_memcpy(buf, addr, 8);
	bpf_skb_store_bytes(skb, 0, buf, 8, 0);
	return TC_ACT_OK;
}

// An error code (negative) on one path, 0 on the other, each with its own
// offset: after the join, `if (err < 0)` leaves only the path whose offset
// is inside the value, as kernel-style C's `if (ret < 0) return ret;`.
SEC("tc")
int error_code_sign(struct __sk_buff *skb)
{
	__u32 zero = 0, off;
	int err;
	__u8 *v;

	if (skb->priority & 1) {
		err = -155;
		off = 1000 + (bpf_get_prandom_u32() & 7);
	} else {
		err = 0;
		off = 8;
	}
	asm volatile("" : "+r"(err), "+r"(off));
	if (err < 0)
		return TC_ACT_SHOT;
	v = bpf_map_lookup_elem(&scratch, &zero);
	if (!v)
		return TC_ACT_OK;
	return v[off];
}

// An int read as 32 bits, tested by sign and then by an upper bound in
// two steps: the signed 32-bit tests of a zero-extended value bound it
// to [0, 15].
SEC("tc")
int int_sign_then_bound(struct __sk_buff *skb)
{
	__u32 zero = 0;
	int i = (int)skb->hash;
	__u8 *v;

	if (i < 0)
		return TC_ACT_OK;
	asm volatile("" : "+r"(i));
	if (i >= 16)
		return TC_ACT_OK;
	v = bpf_map_lookup_elem(&scratch, &zero);
	if (!v)
		return TC_ACT_OK;
	return v[i];
}

// A helper's long result tested as an int, twice (clang tests the sign
// of an int with a bit mask, so this one is written in assembly): the
// second test is decided by what the first said about the low 32 bits,
// which the 64-bit range of the result cannot hold (sub32.go).
SEC("tc") __naked int helper_int_twice(void)
{
	asm volatile (
	"r1 = 0; *(u64 *)(r10 - 8) = r1; *(u64 *)(r10 - 16) = r1;"
	"r2 = r10; r2 += -8; r1 = %[smalls] ll; call %[bpf_map_lookup_elem]; r6 = r0;"
	"r2 = r10; r2 += -8; r3 = r10; r3 += -16; r4 = 0;"
	"r1 = %[smalls] ll; call %[bpf_map_update_elem];"
	"if w0 s< 0 goto 1f;"
	"if w0 s>= 0 goto 1f;"
	"r0 = *(u16 *)(r6 + 6); exit;"
	"1: r0 = 0; exit;"
	:: __imm(bpf_map_lookup_elem), __imm(bpf_map_update_elem), __imm_addr(smalls) : "memory");
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 16);
} counters SEC(".maps");

// Three optional lookups (eight combinations of pointers that are NULL or
// not, all live to the end), then a packet bound whose outcome is kept in
// an error code, tested after the join: sixteen paths that must stay apart
// for the write to be proven (the error path joined with the good one
// loses the two bytes proven past p). Cilium's XDP NAT tail calls
// (bpf_xdp, permutation builds) have this many.
SEC("xdp")
int many_paths_packet(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u64 *a = NULL, *b = NULL, *c = NULL;
	__u32 k = ctx->rx_queue_index;
	__u8 *p;
	long err;

	if (k & 1) {
		a = bpf_map_lookup_elem(&counters, &k);
		if (!a)
			return XDP_PASS;
	}
	if (k & 2) {
		b = bpf_map_lookup_elem(&counters, &k);
		if (!b)
			return XDP_PASS;
	}
	if (k & 4) {
		c = bpf_map_lookup_elem(&counters, &k);
		if (!c)
			return XDP_PASS;
	}
	p = data + (ctx->ingress_ifindex & 63);
	asm volatile("%[err] = 0; r1 = %[p]; r1 += 2; if r1 <= %[end] goto +1; %[err] = -22;"
		     : [err] "=&r"(err) : [p] "r"(p), [end] "r"(end) : "r1");
	if (err)
		return XDP_DROP;
	*(__u16 *)p = 0;
	if (a)
		*a += 1;
	if (b)
		*b += 1;
	if (c)
		*c += 1;
	return XDP_PASS;
}

// A register set on one path only (r2, on the UDP-like path), used later
// only where a test of another register (an error code, negative on the
// other path) lets that path through: joining the paths would leave r2
// "maybe unset" (a Cilium tail call, nodeport.h, has this shape).
SEC("tc") __naked int set_on_one_path(void)
{
	asm volatile (
	"r6 = r1; r1 = *(u32 *)(r6 + 8);"
	"if r1 == 17 goto 1f;"
	"w9 = -159; goto 2f;"
	"1: r2 = *(u32 *)(r6 + 0); r9 = *(u32 *)(r6 + 0);"
	"2: if w9 s> -1 goto 3f;"
	"r0 = 2; exit;"
	"3: r0 = r2; r0 &= 1; exit;"
	::: "memory");
}

// A maybe-NULL pointer from one of two lookups (different calls on two
// paths), spilled on each path; after the join a copy read back from the
// spill is tested, and another copy read back is used. The join of the two
// lookups' results had no id, so the test did not reach the spill
// (Cilium 1.14's wireguard.h, `if (dst && dst->key)`).
SEC("tc") __naked int null_test_of_copy(void)
{
	asm volatile (
	"r6 = r1; r1 = 0; *(u64 *)(r10 - 8) = r1;"
	"r7 = *(u32 *)(r6 + 8);"
	"r2 = r10; r2 += -8; r1 = %[smalls] ll;"
	"if r7 == 0 goto 1f;"
	"call %[bpf_map_lookup_elem]; *(u64 *)(r10 - 16) = r0; goto 2f;"
	"1: call %[bpf_map_lookup_elem]; *(u64 *)(r10 - 16) = r0;"
	"2: r1 = *(u64 *)(r10 - 16); if r1 == 0 goto 3f;"
	"r1 = *(u64 *)(r10 - 16); r0 = *(u8 *)(r1 + 0); exit;"
	"3: r0 = 0; exit;"
	:: __imm(bpf_map_lookup_elem), __imm_addr(smalls) : "memory");
}

char LICENSE[] SEC("license") = "GPL";
