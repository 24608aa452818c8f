// SPDX-License-Identifier: MIT
// Counts the verdicts of an XDP program the kernel runs: an fexit program
// attached to it (the test sets the target), for the kernel-as-oracle test.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 8);
} verdicts SEC(".maps");

// args[0] is the xdp_md pointer, args[1] the return value.
SEC("fexit/xdp")
int count_verdict(unsigned long long *args)
{
	__u32 k = (__u32)args[1];
	if (k > 7)
		k = 7;
	__u64 *n = bpf_map_lookup_elem(&verdicts, &k);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
