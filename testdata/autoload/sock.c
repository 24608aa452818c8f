// A sock_addr program in a "?" section, for exec --attach naming it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("?cgroup/connect4")
int deny_connect4(struct bpf_sock_addr *ctx)
{
	return 0;
}

SEC("cgroup/connect4")
int allow_connect4(struct bpf_sock_addr *ctx)
{
	return 1;
}

char _license[] SEC("license") = "GPL";
