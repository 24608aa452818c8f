// weak.c declares __kconfig externs weak, as programs do for options a
// kernel may lack: libbpf leaves a missing weak extern zero and loads the
// object. The reader under package object refused the weak ones. It also
// defines a map __weak, as libbpf's usdt.bpf.h does for its maps (so that
// several objects can be linked), which the reader refused too.
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPFHOST_MISSING __kconfig __weak;
extern int CONFIG_HZ __kconfig __weak;

SEC("xdp")
int weak_kconfig(struct xdp_md *ctx)
{
	if (CONFIG_BPFHOST_MISSING)
		return XDP_ABORTED;
	if (CONFIG_HZ > 1000)
		return XDP_DROP;
	return LINUX_KERNEL_VERSION > 0 ? XDP_PASS : XDP_TX;
}

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} weak_counts SEC(".maps") __weak;

SEC("xdp")
int weak_map(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&weak_counts, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
	return XDP_PASS;
}
