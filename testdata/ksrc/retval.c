// bpf_get_retval and bpf_set_retval: Linux's cgroup_common_func_proto
// offers them to cgroup programs except those of some attach types, the
// cgroup_skb ones (inet ingress and egress) among them. The shape of
// cgroup_getset_retval_hooks.c, whose programs are in "?" sections.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("?cgroup_skb/egress")
int bad_retval_egress(struct __sk_buff *skb)
{
	bpf_set_retval(bpf_get_retval());
	return 1;
}

SEC("?cgroup_skb/ingress")
int bad_retval_ingress(struct __sk_buff *skb)
{
	return bpf_get_retval() == 0;
}

SEC("cgroup/dev")
int retval_device(struct bpf_cgroup_dev_ctx *ctx)
{
	bpf_set_retval(bpf_get_retval());
	return 1;
}

char _license[] SEC("license") = "GPL";
