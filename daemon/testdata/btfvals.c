// btfvals.c: maps whose key and value types cover what bpftool formats with
// BTF (strings, chars, enums, bools, signed numbers, bit fields, pointers,
// unions, nested arrays and structs, per-CPU values, global data): the
// daemon's formatted dumps are compared with bpftool's.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum state { IDLE = 0, RUNNING = 1, DONE = 7 };

struct key {
	__u32 id;
	char tag[4];
};

struct val {
	char name[8];
	enum state state;
	_Bool ok;
	signed char small;
	int neg;
	__u8 raw[3];
	unsigned int low : 3;
	unsigned int high : 5;
	void *ptr;
	union {
		__u32 word;
		__u16 half;
	} u;
	struct {
		__s16 x, y;
	} points[2];
	__u64 big;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct key);
	__type(value, struct val);
} rich SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __s64);
} percpu SEC(".maps");

volatile int counter = -3;
const volatile char greeting[6] = "hello";

SEC("xdp")
int touch(struct xdp_md *ctx)
{
	struct key k = {};
	struct val *v = bpf_map_lookup_elem(&rich, &k);
	__u32 zero = 0;
	__s64 *p = bpf_map_lookup_elem(&percpu, &zero);

	if (v)
		v->big++;
	if (p)
		(*p)++;
	counter++;
	return greeting[0] == 'h' ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
