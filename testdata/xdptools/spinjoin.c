// xdp-trafficgen's flow state: a lookup that misses inserts the element
// and looks it up again, and the paths meet before the element's lock is
// taken. Each path holds a pointer from a different lookup; Linux follows
// them apart, so the lock taken is known on each.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct flow {
	struct bpf_spin_lock lock;
	__u32 packets;
	__u32 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct flow);
} flows SEC(".maps");

SEC("xdp")
int lock_after_insert(struct xdp_md *ctx)
{
	__u32 key = ctx->rx_queue_index;
	struct flow *f = bpf_map_lookup_elem(&flows, &key);

	if (!f) {
		struct flow init = {};

		if (bpf_map_update_elem(&flows, &key, &init, BPF_NOEXIST))
			return XDP_ABORTED;
		f = bpf_map_lookup_elem(&flows, &key);
		if (!f)
			return XDP_ABORTED;
	}
	bpf_spin_lock(&f->lock);
	f->packets++;
	f->bytes += ctx->data_end - ctx->data;
	bpf_spin_unlock(&f->lock);
	return XDP_PASS;
}

// lock_in_branches takes the lock of one of two elements on each branch
// and releases it after the branches meet.
SEC("xdp")
int lock_in_branches(struct xdp_md *ctx)
{
	__u32 k0 = 0, k1 = 1;
	struct flow *a = bpf_map_lookup_elem(&flows, &k0);
	struct flow *b = bpf_map_lookup_elem(&flows, &k1);
	struct flow *f;

	if (!a || !b)
		return XDP_PASS;
	if (ctx->rx_queue_index & 1) {
		f = a;
		bpf_spin_lock(&a->lock);
	} else {
		f = b;
		bpf_spin_lock(&b->lock);
	}
	f->packets++;
	bpf_spin_unlock(&f->lock);
	return XDP_PASS;
}

// unlock_other releases the other element's lock on one path: refused.
SEC("xdp")
int unlock_other(struct xdp_md *ctx)
{
	__u32 k0 = 0, k1 = 1;
	struct flow *a = bpf_map_lookup_elem(&flows, &k0);
	struct flow *b = bpf_map_lookup_elem(&flows, &k1);
	struct flow *f;

	if (!a || !b)
		return XDP_PASS;
	f = (ctx->rx_queue_index & 1) ? a : b;
	bpf_spin_lock(&a->lock);
	f->packets++;
	bpf_spin_unlock(&f->lock);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
