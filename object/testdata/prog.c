// prog.c exercises the parts of a clang-built object that package object
// turns into a Spec: programs in several sections, .text subprograms, BTF and
// legacy maps, statically initialised prog arrays and map-in-maps, and
// global data. Rebuild with `make -C object/testdata`.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

// The legacy map definition, as iproute2 and old libbpf knew it.
struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def SEC("maps") legacy_map = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = 4,
	.value_size = 8,
	.max_entries = 16,
	.map_flags = 0,
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1024);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
} per_cpu SEC(".maps");

struct lpm_key {
	__u32 prefixlen;
	__u32 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct lpm_key);
	__type(value, __u32);
	__uint(max_entries, 255);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} routes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 2);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer SEC(".maps") = {
	.values = { [0] = &inner_a, [2] = &inner_b },
};

int tail_one(struct xdp_md *ctx);
int tail_two(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__array(values, int(struct xdp_md *));
} jmp_table SEC(".maps") = {
	.values = { [0] = (void *)&tail_one, [1] = (void *)&tail_two },
};

// Global data: .data, .bss, .rodata and a custom .data section.
__u64 packets = 1;
__u64 dropped;
const volatile __u32 cfg_port = 80;
const volatile __u8 cfg_mode = 2;
__u32 custom_var SEC(".data.custom") = 7;
static const char banner[] = "bpfhost";

// helper_sum lives in .text and is called from programs in two sections.
__attribute__((noinline)) int helper_sum(int a, int b)
{
	return a + b + (int)cfg_port;
}

// scale is a static subprogram that is not inlined either.
static __attribute__((noinline)) int scale(int v)
{
	return v * cfg_mode;
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	__u32 key = ctx->ingress_ifindex;
	__u64 one = 1, *val;

	val = bpf_map_lookup_elem(&counts, &key);
	if (val)
		__sync_fetch_and_add(val, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_ANY);
	packets++; /* marker:packets */
	return helper_sum(XDP_PASS, 0) == 2 ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int xdp_route(struct xdp_md *ctx)
{
	struct lpm_key k = { .prefixlen = 32, .addr = ctx->rx_queue_index };
	__u32 *hop = bpf_map_lookup_elem(&routes, &k);
	__u32 zero = 0;
	__u64 *pc = bpf_map_lookup_elem(&per_cpu, &zero);

	if (pc)
		*pc += 1;
	if (!hop) {
		dropped++;
		return XDP_DROP;
	}
	bpf_tail_call(ctx, &jmp_table, *hop);
	return scale(XDP_PASS) + banner[(*hop) & 3] - 'b';
}

SEC("xdp")
int tail_one(struct xdp_md *ctx)
{
	custom_var++;
	return XDP_PASS;
}

SEC("xdp")
int tail_two(struct xdp_md *ctx)
{
	__u32 k = 0;
	void *inner = bpf_map_lookup_elem(&outer, &k);
	if (!inner)
		return XDP_ABORTED;
	return XDP_TX;
}

SEC("socket")
int sock_filter(struct __sk_buff *skb)
{
	__u32 k = 1;
	__u64 *v = bpf_map_lookup_elem(&legacy_map, &k);
	int *rb, ret = 0;

	if (v) {
		*v = skb->len;
		// -mcpu=v4 turns these into a sign-extending load and a bswap.
		ret = *(volatile signed char *)v + (int)__builtin_bswap32(skb->len);
	}
	rb = bpf_ringbuf_reserve(&events, sizeof(int), 0);
	if (rb) {
		*rb = scale(helper_sum(skb->len, 1)); /* marker:sock_call */
		bpf_ringbuf_submit(rb, 0);
	}
	return ret;
}

// loop_step is a callback: the program takes its address (lddw src 4).
static long loop_step(__u32 index, void *ctx)
{
	__u64 *sum = ctx;

	*sum += index;
	return 0;
}

SEC("xdp")
int xdp_loop(struct xdp_md *ctx)
{
	__u64 sum = 0;

	bpf_loop(8, loop_step, &sum, 0);
	return sum == 28 ? XDP_PASS : XDP_DROP;
}
