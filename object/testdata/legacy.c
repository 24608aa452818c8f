// An object in iproute2's style, built without BTF: maps in the legacy
// "maps" section as struct bpf_elf_map (id, pinning, inner_id, inner_idx
// after libbpf's five fields), tail calls in sections named "N/M".
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#define SEC(name) __attribute__((section(name), used))

struct bpf_elf_map {
	__u32 type, size_key, size_value, max_elem, flags;
	__u32 id, pinning, inner_id, inner_idx;
};

#define PIN_GLOBAL_NS 2

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)BPF_FUNC_map_lookup_elem;
static long (*bpf_tail_call)(void *ctx, void *map, __u32 index) = (void *)BPF_FUNC_tail_call;

struct bpf_elf_map SEC("maps") jumps = {
	.type = BPF_MAP_TYPE_PROG_ARRAY, .size_key = 4, .size_value = 4, .max_elem = 8,
	.id = 1, .pinning = PIN_GLOBAL_NS, .inner_idx = 0xffffffff,
};

// The template of outer's inner maps, and stored at index 3 of it.
struct bpf_elf_map SEC("maps") inner = {
	.type = BPF_MAP_TYPE_HASH, .size_key = 4, .size_value = 8, .max_elem = 16,
	.id = 2, .inner_idx = 3,
};

struct bpf_elf_map SEC("maps") outer = {
	.type = BPF_MAP_TYPE_ARRAY_OF_MAPS, .size_key = 4, .size_value = 4, .max_elem = 4,
	.id = 3, .inner_id = 2, .inner_idx = 0xffffffff,
};

struct bpf_elf_map SEC("maps") counters = {
	.type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 8, .max_elem = 1,
	.inner_idx = 0xffffffff,
};

SEC("classifier") int entry(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&counters, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	void *m = bpf_map_lookup_elem(&outer, &key);
	if (m && bpf_map_lookup_elem(m, &key))
		return TC_ACT_SHOT;
	bpf_tail_call(skb, &jumps, skb->mark & 7);
	return TC_ACT_OK;
}

SEC("1/0") int tail0(struct __sk_buff *skb) { return TC_ACT_OK; }

SEC("1/5") int tail5(struct __sk_buff *skb) { return TC_ACT_SHOT; }

char _license[] SEC("license") = "GPL";
