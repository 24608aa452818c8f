// ctx->sk, bpf_setsockopt and bpf_getsockopt in sock_addr programs
// (docs/decisions/0038-sock-addr-socket.md); rebuild with make. Each run
// records what it saw in the next entry of fields, so that a client's calls
// under bpfhost exec and in a kernel cgroup leave the same map.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define SOL_SOCKET 1
#define SO_SNDBUF 7
#define SO_PRIORITY 12
#define SO_LINGER 13
#define SO_MARK 36
#define SOL_IP 0
#define IP_TOS 1
#define SOL_IPV6 41
#define IPV6_TCLASS 67
#define SOL_TCP 6
#define TCP_NODELAY 1
#define TCP_CONGESTION 13

struct rec {
	__u32 hook;
	__u32 bound_dev_if, family, type, protocol, mark, priority;
	__u32 src_ip4, src_ip6[4], src_port;
	__u32 dst_port16, dst_port32;
	__u32 dst_ip4, dst_ip6[4];
	__u32 state;
	__s32 rx_queue_mapping;
	// setsockopt/getsockopt results (sockopts).
	__s64 ret[8];
	__u32 got[4];
	char cc[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, struct rec);
} fields SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} seq SEC(".maps");

static struct rec *next(void)
{
	__u32 k = 0;
	__u32 *n = bpf_map_lookup_elem(&seq, &k);
	if (!n)
		return 0;
	__u32 i = __sync_fetch_and_add(n, 1);
	return bpf_map_lookup_elem(&fields, &i);
}

static void record(struct bpf_sock_addr *ctx, struct rec *r, __u32 hook)
{
	struct bpf_sock *sk = ctx->sk;
	r->hook = hook;
	r->bound_dev_if = sk->bound_dev_if;
	r->family = sk->family;
	r->type = sk->type;
	r->protocol = sk->protocol;
	r->mark = sk->mark;
	r->priority = sk->priority;
	r->src_ip4 = sk->src_ip4;
	r->src_ip6[0] = sk->src_ip6[0];
	r->src_ip6[1] = sk->src_ip6[1];
	r->src_ip6[2] = sk->src_ip6[2];
	r->src_ip6[3] = sk->src_ip6[3];
	r->src_port = sk->src_port;
	r->dst_port16 = sk->dst_port;
	r->dst_port32 = *(volatile __u32 *)&sk->dst_port;
	r->dst_ip4 = sk->dst_ip4;
	r->dst_ip6[0] = sk->dst_ip6[0];
	r->dst_ip6[1] = sk->dst_ip6[1];
	r->dst_ip6[2] = sk->dst_ip6[2];
	r->dst_ip6[3] = sk->dst_ip6[3];
	r->state = sk->state;
	r->rx_queue_mapping = sk->rx_queue_mapping;
}

#define RECORDER(name, sec, hook)                      \
	SEC(sec)                                       \
	int name(struct bpf_sock_addr *ctx)            \
	{                                              \
		struct rec *r = next();                \
		if (r)                                 \
			record(ctx, r, hook);          \
		return 1;                              \
	}

RECORDER(sk_connect4, "cgroup/connect4", 1)
RECORDER(sk_connect6, "cgroup/connect6", 2)
RECORDER(sk_bind4, "cgroup/bind4", 3)
RECORDER(sk_bind6, "cgroup/bind6", 4)
RECORDER(sk_sendmsg4, "cgroup/sendmsg4", 5)
RECORDER(sk_sendmsg6, "cgroup/sendmsg6", 6)

// sockopts sets and reads options of the connecting socket: a mark, a
// priority and a TOS the client then reads with getsockopt, reno as the
// congestion control of TCP sockets, and options Linux refuses from a
// program (SO_LINGER; a wrong length; IPV6_TCLASS on an IPv4 socket).
static int sockopts(struct bpf_sock_addr *ctx, __u32 hook)
{
	struct rec *r = next();
	if (!r)
		return 1;
	int v = 7;
	r->ret[0] = bpf_setsockopt(ctx, SOL_SOCKET, SO_MARK, &v, sizeof(v));
	v = 5;
	r->ret[1] = bpf_setsockopt(ctx, SOL_SOCKET, SO_PRIORITY, &v, sizeof(v));
	v = 0x20;
	r->ret[2] = bpf_setsockopt(ctx, SOL_IP, IP_TOS, &v, sizeof(v));
	r->ret[3] = bpf_setsockopt(ctx, SOL_SOCKET, SO_LINGER, &v, sizeof(v));
	__u64 wide = 1;
	r->ret[4] = bpf_setsockopt(ctx, SOL_SOCKET, SO_MARK, &wide, sizeof(wide));
	r->ret[5] = bpf_setsockopt(ctx, SOL_IPV6, IPV6_TCLASS, &v, sizeof(v));
	char reno[] = "reno";
	r->ret[6] = bpf_setsockopt(ctx, SOL_TCP, TCP_CONGESTION, reno, sizeof(reno));
	r->ret[7] = bpf_getsockopt(ctx, SOL_TCP, TCP_CONGESTION, r->cc, sizeof(r->cc));
	int g = -1;
	bpf_getsockopt(ctx, SOL_SOCKET, SO_MARK, &g, sizeof(g));
	r->got[0] = g;
	bpf_getsockopt(ctx, SOL_IP, IP_TOS, &g, sizeof(g));
	r->got[1] = g;
	g = -1;
	r->got[2] = bpf_getsockopt(ctx, SOL_SOCKET, SO_LINGER, &g, sizeof(g));
	r->got[3] = g;
	record(ctx, r, hook); // the mark and priority as ctx->sk now shows them
	return 1;
}

SEC("cgroup/connect4")
int opts_connect4(struct bpf_sock_addr *ctx) { return sockopts(ctx, 11); }

SEC("cgroup/connect6")
int opts_connect6(struct bpf_sock_addr *ctx) { return sockopts(ctx, 12); }

SEC("cgroup/sendmsg4")
int opts_sendmsg4(struct bpf_sock_addr *ctx) { return sockopts(ctx, 15); }

SEC("cgroup/bind6")
int opts_bind6(struct bpf_sock_addr *ctx) { return sockopts(ctx, 14); }

char _license[] SEC("license") = "GPL";
