// SPDX-License-Identifier: MIT
// Programs that end while holding a spin lock or a ring buffer record. The
// verifier rejects them; loaded unverified (checked interpreter), the run
// must give back what it holds: TestRunReleasesWhatItHolds.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

struct locked {
	struct bpf_spin_lock l;
	__u32 n;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct locked);
} lmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

SEC("xdp")
int lock_and_leave(struct xdp_md *ctx)
{
	__u32 k = 0;
	struct locked *v = bpf_map_lookup_elem(&lmap, &k);
	if (!v)
		return XDP_ABORTED;
	bpf_spin_lock(&v->l);
	v->n++;
	return XDP_PASS; /* no bpf_spin_unlock */
}

SEC("xdp")
int reserve_and_leave(struct xdp_md *ctx)
{
	__u64 *r = bpf_ringbuf_reserve(&rb, 8, 0);
	if (!r)
		return XDP_ABORTED;
	*r = 1;
	return XDP_PASS; /* neither submitted nor discarded */
}

SEC("xdp")
int output(struct xdp_md *ctx)
{
	__u64 v = 2;
	bpf_ringbuf_output(&rb, &v, sizeof(v), 0);
	return XDP_PASS;
}
