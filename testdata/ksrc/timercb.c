/* A timer callback is verified as Linux verifies it, with the map, key and
 * value of the timer bpf_timer_set_callback was given, and as the root of
 * its own call chain for the stack limit (Linux's async callbacks):
 * samples' and selftests' timer programs (async_stack_depth.c). Programs
 * named bad_* break a rule inside the callback; Linux and bpfhost refuse
 * them. Linux also refuses tracing programs (kprobe, tracepoint,
 * perf_event, raw_tracepoint) that use a map whose value holds a bpf_timer
 * or a bpf_spin_lock, and socket filters that use one with a lock
 * (verifier_helper_restricted.c). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct elem {
	struct bpf_timer timer;
	__u64 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct elem);
} timers SEC(".maps");

static int good_cb(void *map, int *key, struct elem *e)
{
	e->count++;
	return 0;
}

static int bad_cb(void *map, int *key, struct elem *e)
{
	/* 8 bytes at offset 256 of a 24-byte value */
	return *(volatile __u64 *)((char *)e + 256);
}

static __attribute__((noinline)) int deep(int x)
{
	volatile char buf[256] = {};

	buf[x & 255] = 1;
	return buf[7];
}

static int deep_cb(void *map, int *key, struct elem *e)
{
	volatile char buf[300] = {};

	buf[e->count & 255] = 1;
	return buf[3] + deep(buf[5]) ? 0 : 0;
}

static __always_inline int arm(void *cb)
{
	int key = 0;
	struct elem *e = bpf_map_lookup_elem(&timers, &key);

	if (!e)
		return 0;
	bpf_timer_init(&e->timer, &timers, 1 /* CLOCK_MONOTONIC */);
	bpf_timer_set_callback(&e->timer, cb);
	bpf_timer_start(&e->timer, 1000, 0);
	return 0;
}

SEC("tc")
int good_timer(struct __sk_buff *skb)
{
	return arm(good_cb);
}

SEC("tc")
int bad_timer_read(struct __sk_buff *skb)
{
	return arm(bad_cb);
}

/* 304 + 256 bytes along deep_cb -> deep: more than 512. */
SEC("tc")
int bad_timer_stack(struct __sk_buff *skb)
{
	return arm(deep_cb);
}

struct locked {
	struct bpf_spin_lock lock;
	__u64 n;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct locked);
} locks SEC(".maps");

SEC("kprobe/do_unlinkat")
int bad_kprobe_timer_map(void *ctx)
{
	int key = 0;
	struct elem *e = bpf_map_lookup_elem(&timers, &key);

	return e ? e->count : 0;
}

SEC("socket")
int bad_socket_lock_map(struct __sk_buff *skb)
{
	int key = 0;
	struct locked *l = bpf_map_lookup_elem(&locks, &key);

	return l ? l->n : 0;
}

SEC("tc")
int tc_lock_map(struct __sk_buff *skb)
{
	int key = 0;
	struct locked *l = bpf_map_lookup_elem(&locks, &key);

	if (!l)
		return 0;
	bpf_spin_lock(&l->lock);
	l->n++;
	bpf_spin_unlock(&l->lock);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
