// share.h: the maps share_a.c and share_b.c both define, alike, so that a
// load may make one object's the other's.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
};

// OUTER is an array of two such maps, JMP a program array of 4 slots;
// each object gives its own static slots.
#define OUTER                                     \
	struct {                                  \
		__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); \
		__uint(max_entries, 2);           \
		__type(key, __u32);               \
		__array(values, struct inner_map); \
	} outer SEC(".maps")

#define JMP                                       \
	struct {                                  \
		__uint(type, BPF_MAP_TYPE_PROG_ARRAY); \
		__uint(max_entries, 4);           \
		__type(key, __u32);               \
		__array(values, int(void *));     \
	} jmp SEC(".maps")

// The globals: a constant (.rodata) and a run counter (.bss).
const volatile __u64 k = K;
__u64 runs = 0;

char LICENSE[] SEC("license") = "GPL";
