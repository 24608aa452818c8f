/* A map created with BPF_F_WRONLY_PROG: programs may write its values but
 * not read them, neither with loads nor through helpers
 * (verifier_array_access.c's write-only arrays). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_WRONLY_PROG);
	__type(key, int);
	__type(value, __u64[4]);
} wronly SEC(".maps");

SEC("tc")
int write_only_store(struct __sk_buff *skb)
{
	int key = 0;
	__u64 *v = bpf_map_lookup_elem(&wronly, &key);

	if (v)
		v[1] = skb->len;
	return 0;
}

SEC("tc")
int bad_write_only_load(struct __sk_buff *skb)
{
	int key = 0;
	__u64 *v = bpf_map_lookup_elem(&wronly, &key);

	return v ? (int)v[1] : 0;
}

SEC("tc")
int bad_write_only_helper(struct __sk_buff *skb)
{
	int key = 0;
	__u64 *v = bpf_map_lookup_elem(&wronly, &key);

	if (v)
		bpf_skb_store_bytes(skb, 0, v, 8, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
