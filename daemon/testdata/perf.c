// A perf event array for the daemon's event pipe tests (events_test.go):
// the program writes the packet's first 4 bytes as a sample (from the stack:
// the helper takes no packet pointers).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} samples SEC(".maps");

SEC("xdp")
int sample(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	__u32 head;

	if (data + 4 > end)
		return XDP_DROP;
	__builtin_memcpy(&head, data, 4);
	bpf_perf_event_output(ctx, &samples, BPF_F_CURRENT_CPU, &head, 4);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
