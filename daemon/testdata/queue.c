// A queue and a stack for the daemon's queue tests (queue_test.go); the
// program moves a value from the queue to the stack.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 4);
	__type(value, __u32);
} fifo SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 4);
	__type(value, __u32);
} lifo SEC(".maps");

SEC("xdp")
int move(struct xdp_md *ctx)
{
	__u32 v;

	if (bpf_map_pop_elem(&fifo, &v))
		return XDP_DROP;
	bpf_map_push_elem(&lifo, &v, BPF_EXIST);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
