// core.c carries CO-RE relocations of every kind that package object resolves:
// field offsets (loads, stores and address arithmetic), field existence and
// size, bitfield shifts, type existence and size, and enum values. It is
// relocated in the tests against the types of core_target.c, which lays the
// same structs out differently.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct ctx_like {
	int a;
	int b;
	unsigned int flags : 3, mode : 5;
	struct {
		int x;
	} nested;
	int arr[4];
	int removed;
	unsigned int ulen;
} __attribute__((preserve_access_index));

struct only_local {
	int q;
} __attribute__((preserve_access_index));

enum color { RED = 1, GREEN = 2, PURPLE = 3 };

SEC("tp/test/core")
int core_prog(struct ctx_like *c)
{
	int v = c->b; /* marker:core_b */
	int x = 0;

	v += c->arr[2];
	v += c->ulen; /* marker:core_ulen */
	c->a = v;
	bpf_probe_read_kernel(&x, sizeof(x), &c->nested.x);
	v += x;
	if (bpf_core_field_exists(c->a))
		v += 1;
	v += bpf_core_field_size(c->b);
	v += bpf_core_type_size(struct ctx_like);
	if (bpf_core_type_exists(struct only_local))
		v += 100;
	if (bpf_core_enum_value_exists(enum color, PURPLE))
		v += 1000;
	v += bpf_core_enum_value(enum color, GREEN);
	v += BPF_CORE_READ_BITFIELD(c, mode);
	return v;
}

SEC("tp/test/core_missing_type")
int core_missing_type(struct only_local *o)
{
	return o->q;
}

SEC("tp/test/core_missing_field")
int core_missing_field(struct ctx_like *c)
{
	if (bpf_core_field_exists(c->removed))
		return c->removed;
	return 0;
}
