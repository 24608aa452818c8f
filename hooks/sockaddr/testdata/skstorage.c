// bpf_sk_storage_get and bpf_sk_storage_delete from the sock_addr and
// cgroup_sock hooks (docs/decisions/0038-sock-addr-socket.md); rebuild with
// make. Each run records what the socket's storage held in the next entry
// of seen, so that a client's calls under bpfhost exec and in a kernel
// cgroup leave the same map.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct stg {
	__u32 calls;
	__u32 created_by; // the hook that made the value
	__u32 last_port;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct stg);
} stg SEC(".maps");

struct seen {
	__u32 hook;
	__u32 found; // the value existed before this run
	__u32 calls, created_by, last_port;
	__s32 deleted; // bpf_sk_storage_delete's result, or 1 if not called
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, struct seen);
} seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} seq SEC(".maps");

static struct seen *next(__u32 hook)
{
	__u32 k = 0;
	__u32 *n = bpf_map_lookup_elem(&seq, &k);
	if (!n)
		return 0;
	__u32 i = __sync_fetch_and_add(n, 1);
	struct seen *s = bpf_map_lookup_elem(&seen, &i);
	if (s) {
		s->hook = hook;
		s->deleted = 1;
	}
	return s;
}

// count finds or makes the socket's value (made from init: created_by is
// the hook), counts the call and records it.
static void count(struct bpf_sock *sk, __u32 hook, __u32 port)
{
	struct seen *s = next(hook);
	if (!s)
		return;
	s->found = bpf_sk_storage_get(&stg, sk, 0, 0) != 0;
	struct stg init = {.created_by = hook};
	struct stg *v = bpf_sk_storage_get(&stg, sk, &init, BPF_SK_STORAGE_GET_F_CREATE);
	if (!v)
		return;
	v->calls++;
	v->last_port = port;
	s->calls = v->calls;
	s->created_by = v->created_by;
	s->last_port = v->last_port;
}

SEC("cgroup/sock_create")
int stg_create(struct bpf_sock *ctx)
{
	// Only UDP sockets get a value when they are made.
	if (ctx->protocol == 17) {
		struct stg init = {.created_by = 100};
		struct seen *s = next(100);
		struct stg *v = bpf_sk_storage_get(&stg, ctx, &init, BPF_SK_STORAGE_GET_F_CREATE);
		if (s && v)
			s->created_by = v->created_by;
	}
	return 1;
}

SEC("cgroup/connect4")
int stg_connect4(struct bpf_sock_addr *ctx)
{
	count(ctx->sk, 1, bpf_ntohs(ctx->user_port));
	return 1;
}

SEC("cgroup/sendmsg4")
int stg_sendmsg4(struct bpf_sock_addr *ctx)
{
	count(ctx->sk, 5, bpf_ntohs(ctx->user_port));
	return 1;
}

// stg_bind4 deletes the value of a socket that binds port 0, then looks
// again.
SEC("cgroup/bind4")
int stg_bind4(struct bpf_sock_addr *ctx)
{
	if (ctx->user_port != 0) {
		count(ctx->sk, 3, bpf_ntohs(ctx->user_port));
		return 1;
	}
	struct seen *s = next(3);
	if (!s)
		return 1;
	s->deleted = bpf_sk_storage_delete(&stg, ctx->sk);
	s->found = bpf_sk_storage_get(&stg, ctx->sk, 0, 0) != 0;
	return 1;
}

// stg_post_bind4 reads what the socket's value holds after its bind.
SEC("cgroup/post_bind4")
int stg_post_bind4(struct bpf_sock *ctx)
{
	struct seen *s = next(4);
	if (!s)
		return 1;
	struct stg *v = bpf_sk_storage_get(&stg, ctx, 0, 0);
	s->found = v != 0;
	if (v) {
		s->calls = v->calls;
		s->created_by = v->created_by;
		s->last_port = v->last_port;
	}
	return 1;
}

char _license[] SEC("license") = "GPL";
