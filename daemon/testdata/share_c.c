// share_c.c: a tc program that tail-calls through a program array, which
// a load may make another object's (of XDP programs: refused, as Linux's
// program arrays keep one program type).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} jmp SEC(".maps");

SEC("tc")
int tc_entry(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
