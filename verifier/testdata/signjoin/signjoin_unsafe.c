// SPDX-License-Identifier: MIT
// Unsafe variants of the shapes in signjoin.c: each program must be
// rejected, its first finding on the line marked REJECT.
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

// Twelve bytes from the field: past the smaller value on its path.
SEC("tc")
int either_map_field_past(struct __sk_buff *skb)
{
	__u32 key = skb->mark;
	const __u8 *addr;
	__u8 buf[12];

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
	__builtin_memcpy(buf, addr, 12); // REJECT: outside
	bpf_skb_store_bytes(skb, 0, buf, 12, 0);
	return TC_ACT_OK;
}

// The error path's offset is used: the sign test goes the wrong way.
SEC("tc")
int error_code_sign_inverted(struct __sk_buff *skb)
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
	if (err >= 0)
		return TC_ACT_SHOT;
	v = bpf_map_lookup_elem(&scratch, &zero);
	if (!v)
		return TC_ACT_OK;
	return v[off]; // REJECT: outside
}

// Without the sign test, a negative int is a huge index.
SEC("tc")
int int_bound_no_sign(struct __sk_buff *skb)
{
	__u32 zero = 0;
	int i = (int)skb->hash;
	__u8 *v;

	asm volatile("" : "+r"(i));
	if (i >= 16)
		return TC_ACT_OK;
	v = bpf_map_lookup_elem(&scratch, &zero);
	if (!v)
		return TC_ACT_OK;
	return v[i]; // REJECT: outside
}

// The second test repeats the first: r6 may be NULL where it is read.
SEC("tc") __naked int helper_int_twice_same(void)
{
	asm volatile ( // REJECT: NULL
	"r1 = 0; *(u64 *)(r10 - 8) = r1; *(u64 *)(r10 - 16) = r1;"
	"r2 = r10; r2 += -8; r1 = %[smalls] ll; call %[bpf_map_lookup_elem]; r6 = r0;"
	"r2 = r10; r2 += -8; r3 = r10; r3 += -16; r4 = 0;"
	"r1 = %[smalls] ll; call %[bpf_map_update_elem];"
	"if w0 s< 0 goto 1f;"
	"if w0 s< 0 goto 1f;"
	"r0 = *(u16 *)(r6 + 6); exit;"
	"1: r0 = 0; exit;"
	:: __imm(bpf_map_lookup_elem), __imm(bpf_map_update_elem), __imm_addr(smalls) : "memory");
}

// An 8-byte store and load at r10-20: inside the frame, but not aligned
// to their size, which Linux refuses for every stack access (a Cilium
// permutation build, bpf_host with -DENABLE_NODEPORT and
// -DENABLE_MASQUERADE_IPV4 among others, has one; bpfhost accepted it).
SEC("tc") __naked int stack_misaligned(void)
{
	asm volatile ( // REJECT: misaligned stack
	"r1 = 7; *(u64 *)(r10 - 20) = r1; r0 = *(u64 *)(r10 - 20);"
	"r0 &= 1; exit;"
	::: "memory");
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 16);
} counters SEC(".maps");

// The bound proves one byte, the write needs two.
SEC("xdp")
int many_paths_packet_short(struct xdp_md *ctx)
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
	asm volatile("%[err] = 0; r1 = %[p]; r1 += 1; if r1 <= %[end] goto +1; %[err] = -22;"
		     : [err] "=&r"(err) : [p] "r"(p), [end] "r"(end) : "r1");
	if (err)
		return XDP_DROP;
	*(__u16 *)p = 0; // REJECT: packet write
	if (a)
		*a += 1;
	if (b)
		*b += 1;
	if (c)
		*c += 1;
	return XDP_PASS;
}

// The other path's code is not negative: it reaches the use of r2, which
// it never set.
SEC("tc") __naked int set_on_one_path_used(void)
{
	asm volatile ( // REJECT: uninitialised
	"r6 = r1; r1 = *(u32 *)(r6 + 8);"
	"if r1 == 17 goto 1f;"
	"w9 = 5; goto 2f;"
	"1: r2 = *(u32 *)(r6 + 0); r9 = *(u32 *)(r6 + 0);"
	"2: if w9 s> -1 goto 3f;"
	"r0 = 2; exit;"
	"3: r0 = r2; r0 &= 1; exit;"
	::: "memory");
}

// The NULL test is missing: the pointer read back may be NULL.
SEC("tc") __naked int null_test_of_copy_missing(void)
{
	asm volatile ( // REJECT: NULL
	"r6 = r1; r1 = 0; *(u64 *)(r10 - 8) = r1;"
	"r7 = *(u32 *)(r6 + 8);"
	"r2 = r10; r2 += -8; r1 = %[smalls] ll;"
	"if r7 == 0 goto 1f;"
	"call %[bpf_map_lookup_elem]; *(u64 *)(r10 - 16) = r0; goto 2f;"
	"1: call %[bpf_map_lookup_elem]; *(u64 *)(r10 - 16) = r0;"
	"2: "
	"r1 = *(u64 *)(r10 - 16); r0 = *(u8 *)(r1 + 0); exit;"
	"3: r0 = 0; exit;"
	:: __imm(bpf_map_lookup_elem), __imm_addr(smalls) : "memory");
}

char LICENSE[] SEC("license") = "GPL";
