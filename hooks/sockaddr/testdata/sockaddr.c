// Test programs for hooks/sockaddr; rebuild with make.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <linux/in.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static void count(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&counts, &i);
	if (v)
		__sync_fetch_and_add(v, 1);
}

// deny_port refuses connections to port 9 (the denied port of the tests):
// counts[0] counts calls, counts[1] refusals.
SEC("cgroup/connect4")
int deny_port(struct bpf_sock_addr *ctx)
{
	count(0);
	if (ctx->user_port == bpf_htons(9)) {
		count(1);
		return 0;
	}
	return 1;
}

SEC("cgroup/connect6")
int deny_port6(struct bpf_sock_addr *ctx)
{
	count(0);
	if (ctx->user_port == bpf_htons(9)) {
		count(1);
		return 0;
	}
	return 1;
}

// redirect sends connections to 127.0.0.1:9 to port 10 ("the server
// behind it"), counted in counts[2].
SEC("cgroup/connect4")
int redirect(struct bpf_sock_addr *ctx)
{
	if (ctx->user_port == bpf_htons(9) && ctx->user_ip4 == bpf_htonl(0x7f000001)) {
		ctx->user_port = bpf_htons(10);
		count(2);
	}
	return 1;
}

// redirect_udp rewrites UDP datagrams for port 9 to port 10.
SEC("cgroup/sendmsg4")
int redirect_udp(struct bpf_sock_addr *ctx)
{
	if (ctx->user_port == bpf_htons(9)) {
		ctx->user_port = bpf_htons(10);
		count(3);
	}
	return 1;
}

// low_binds refuses binds to ports below 1024 (port 0 is allowed).
SEC("cgroup/bind4")
int low_binds(struct bpf_sock_addr *ctx)
{
	__u16 port = bpf_ntohs(ctx->user_port);
	return port == 0 || port >= 1024;
}

SEC("cgroup/bind6")
int low_binds6(struct bpf_sock_addr *ctx)
{
	__u16 port = bpf_ntohs(ctx->user_port);
	return port == 0 || port >= 1024;
}

// restore_udp makes replies from port 10 look as if they came from port
// 9: paired with redirect_udp, the application sees the address it sent to.
SEC("cgroup/recvmsg4")
int restore_udp(struct bpf_sock_addr *ctx)
{
	if (ctx->user_port == bpf_htons(10))
		ctx->user_port = bpf_htons(9);
	return 1;
}

// restore_udp6 is restore_udp for IPv6 sockets (IPv4-mapped sources too).
SEC("cgroup/recvmsg6")
int restore_udp6(struct bpf_sock_addr *ctx)
{
	if (ctx->user_port == bpf_htons(10))
		ctx->user_port = bpf_htons(9);
	return 1;
}

char _license[] SEC("license") = "GPL";

// hide_redirect makes a connection redirect moved to port 10 look, to
// getpeername, as if it went to port 9.
SEC("cgroup/getpeername4")
int hide_redirect(struct bpf_sock_addr *ctx)
{
	if (ctx->user_port == bpf_htons(10))
		ctx->user_port = bpf_htons(9);
	return 1;
}

// local_port reports, to getsockname, every local port as 7.
SEC("cgroup/getsockname4")
int local_port(struct bpf_sock_addr *ctx)
{
	ctx->user_port = bpf_htons(7);
	return 1;
}

// bind_source binds connections to port 10 to source address 127.0.0.2
// with bpf_bind before they connect; counts[2] counts failed binds.
SEC("cgroup/connect4")
int bind_source(struct bpf_sock_addr *ctx)
{
	struct sockaddr_in sa = {
		.sin_family = 2,
		.sin_addr = { bpf_htonl(0x7f000002) },
	};

	if (ctx->user_port == bpf_htons(10) && bpf_bind(ctx, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		count(2);
	return 1;
}

// no_udp refuses to create UDP sockets.
SEC("cgroup/sock_create")
int no_udp(struct bpf_sock *sk)
{
	return sk->protocol != IPPROTO_UDP;
}

// mark_tcp marks TCP sockets 42 and gives them priority 3.
SEC("cgroup/sock_create")
int mark_tcp(struct bpf_sock *sk)
{
	if (sk->protocol == IPPROTO_TCP) {
		sk->mark = 42;
		sk->priority = 3;
	}
	return 1;
}

// even_ports refuses sockets bound to an even port (ephemeral ones too);
// counts[3] counts refusals.
SEC("cgroup/post_bind4")
int even_ports(struct bpf_sock *sk)
{
	if (sk->src_ip4 != bpf_htonl(0x7f000001) || (sk->src_port & 1) == 0) {
		count(3);
		return 0;
	}
	return 1;
}

SEC("cgroup/post_bind6")
int even_ports6(struct bpf_sock *sk)
{
	if (sk->src_port & 1)
		return 1;
	count(3);
	return 0;
}

// who prints the connecting task's comm, tgid, uid and socket cookie being
// set, and allows the call.
SEC("cgroup/connect4")
int who(struct bpf_sock_addr *ctx)
{
	char comm[16];
	__u64 pid = bpf_get_current_pid_tgid() >> 32;
	__u32 uid = bpf_get_current_uid_gid();
	__u64 cookie = bpf_get_socket_cookie(ctx);

	bpf_get_current_comm(comm, sizeof(comm));
	bpf_printk("%s %llu %u", comm, pid, uid);
	bpf_printk("cookie %d netns %d", cookie != 0, bpf_get_netns_cookie(ctx) != 0);
	return 1;
}

// redirect_udp6 rewrites IPv6 UDP datagrams for port 9 to port 10;
// counts[2] counts its runs (redirect_udp, the IPv4 one, counts in
// counts[3] the datagrams it redirects).
SEC("cgroup/sendmsg6")
int redirect_udp6(struct bpf_sock_addr *ctx)
{
	count(2);
	if (ctx->user_port == bpf_htons(9))
		ctx->user_port = bpf_htons(10);
	return 1;
}

// src_udp sends the datagrams of sockets without a source address from
// 127.0.0.2 (msg_src_ip4); counts[1] counts those that had one.
SEC("cgroup/sendmsg4")
int src_udp(struct bpf_sock_addr *ctx)
{
	if (ctx->msg_src_ip4 == 0)
		ctx->msg_src_ip4 = bpf_htonl(0x7f000002);
	else
		count(1);
	return 1;
}

// src_udp6 sends the IPv6 datagrams of sockets without a source address
// from ::1 (msg_src_ip6, written as two 64-bit halves); counts[1] counts
// those that had one.
SEC("cgroup/sendmsg6")
int src_udp6(struct bpf_sock_addr *ctx)
{
	if (ctx->msg_src_ip6[0] | ctx->msg_src_ip6[1] | ctx->msg_src_ip6[2] | ctx->msg_src_ip6[3]) {
		count(1);
		return 1;
	}
	ctx->msg_src_ip6[0] = 0;
	ctx->msg_src_ip6[1] = 0;
	ctx->msg_src_ip6[2] = 0;
	ctx->msg_src_ip6[3] = bpf_htonl(1);
	return 1;
}

// count_proto counts the protocol a program sees: counts[0] TCP, [1]
// MPTCP, [2] UDP, [3] UDP-Lite; port 9 is refused.
static int count_proto(struct bpf_sock_addr *ctx)
{
	switch (ctx->protocol) {
	case IPPROTO_TCP:
		count(0);
		break;
	case IPPROTO_MPTCP:
		count(1);
		break;
	case IPPROTO_UDP:
		count(2);
		break;
	case IPPROTO_UDPLITE:
		count(3);
		break;
	}
	return ctx->user_port != bpf_htons(9);
}

SEC("cgroup/connect4")
int proto_connect(struct bpf_sock_addr *ctx) { return count_proto(ctx); }

SEC("cgroup/sendmsg4")
int proto_sendmsg(struct bpf_sock_addr *ctx) { return count_proto(ctx); }

SEC("cgroup/bind4")
int proto_bind(struct bpf_sock_addr *ctx) { return count_proto(ctx); }

// mark_all marks every socket 7.
SEC("cgroup/sock_create")
int mark_all(struct bpf_sock *sk)
{
	sk->mark = 7;
	return 1;
}
