// A second object for the tests of bpfhost exec with several objects (its
// own "blocked" map and a "counts" map whose name sockaddr.o uses too), and
// of the task helpers' cost. Rebuild with make.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);   // port, host order
	__type(value, __u32); // nonzero: refused
} blocked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

// deny_listed refuses connections to the ports in blocked and counts its
// runs in counts[0].
SEC("cgroup/connect4")
int deny_listed(struct bpf_sock_addr *ctx)
{
	__u32 port = bpf_ntohs(ctx->user_port);
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&counts, &zero);
	__u32 *v;

	if (n)
		__sync_fetch_and_add(n, 1);
	v = bpf_map_lookup_elem(&blocked, &port);
	return v && *v ? 0 : 1;
}

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

// tgid_of records the connecting task's tgid in seen[0] and counts the
// calls of threads other than the process's first in seen[1]; it allows
// every call. It asks for nothing but bpf_get_current_pid_tgid.
SEC("cgroup/connect4")
int tgid_of(struct bpf_sock_addr *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&seen, &k);

	if (v)
		*v = id >> 32;
	k = 1;
	v = bpf_map_lookup_elem(&seen, &k);
	if (v && (__u32)id != id >> 32)
		__sync_fetch_and_add(v, 1);
	return 1;
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);   // port, host order
	__type(value, __u64); // bpf_get_current_uid_gid()
} uids SEC(".maps");

// uid_of records the connecting task's uid and gid by destination port in
// uids; it allows every call.
SEC("cgroup/connect4")
int uid_of(struct bpf_sock_addr *ctx)
{
	__u32 port = bpf_ntohs(ctx->user_port);
	__u64 id = bpf_get_current_uid_gid();

	bpf_map_update_elem(&uids, &port, &id, BPF_ANY);
	return 1;
}

char _license[] SEC("license") = "GPL";
