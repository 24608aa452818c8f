// Open-coded number iterators (docs/decisions/0037-open-coded-iterators.md):
// programs Linux accepts, which bpfhost runs with the kernel's results, and
// programs Linux refuses, each for one rule of the iterator. iter_test.go
// and iter_linux_test.go list them with their verdicts.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "iter.h"

SEC("tc")
int sum_const(struct __sk_buff *skb)
{
	int i, sum = 0;

	for_range(i, 3, 10)
		sum += i;
	return sum; // 42
}

// The trip count depends on the packet: the loop converges by widening.
SEC("tc")
int sum_len(struct __sk_buff *skb)
{
	int i, n = skb->len, sum = 0;

	for_range(i, 0, n)
		sum += i * 3;
	return sum;
}

SEC("tc")
int nested(struct __sk_buff *skb)
{
	int i, j, sum = 0;

	for_range(i, 0, 12)
		for_range(j, 0, i)
			sum += i * j + 1;
	return sum;
}

SEC("tc")
int repeat(struct __sk_buff *skb)
{
	int n = 0;

	repeat_n(skb->len & 63)
		n += 2;
	return n;
}

SEC("tc")
int early_break(struct __sk_buff *skb)
{
	int i, last = -1;

	for_range(i, 0, 1000) {
		if (i * i > (int)skb->len)
			break;
		last = i;
	}
	return last;
}

// The iterator by hand: new's result, the values next returns, destroy.
SEC("tc")
int manual(struct __sk_buff *skb)
{
	struct bpf_iter_num it;
	int *v, sum = 0, err;

	err = bpf_iter_num_new(&it, -5, 5);
	while ((v = bpf_iter_num_next(&it)))
		sum = sum * 3 + *v;
	bpf_iter_num_destroy(&it);
	return sum + err;
}

// start > end: -EINVAL and no values; more than 1<<23 values: -E2BIG and
// none. The loop over [0, 1<<30) costs nothing.
SEC("tc")
int bad_ranges(struct __sk_buff *skb)
{
	struct bpf_iter_num a, b;
	int ra, rb, n = 0;

	ra = bpf_iter_num_new(&a, 5, 2);
	while (bpf_iter_num_next(&a))
		n++;
	bpf_iter_num_destroy(&a);
	rb = bpf_iter_num_new(&b, 0, 1 << 30);
	while (bpf_iter_num_next(&b))
		n++;
	bpf_iter_num_destroy(&b);
	return ra * 1000 + rb * 10 + n;
}

// After the last value next returns NULL, and again after that.
SEC("tc")
int drained(struct __sk_buff *skb)
{
	struct bpf_iter_num it;
	int *v, n = 0;

	bpf_iter_num_new(&it, 0, 2);
	while (bpf_iter_num_next(&it))
		n++;
	v = bpf_iter_num_next(&it);
	if (!v)
		n += 100;
	bpf_iter_num_destroy(&it);
	return n;
}

// A larger count: 10000 values, each summed.
SEC("tc")
int many(struct __sk_buff *skb)
{
	int i;
	unsigned int sum = 0;

	for_range(i, 0, 10000)
		sum += i ^ 0x5a;
	return sum & 0x7fffffff;
}

// Refused: the iterator is never destroyed ("Unreleased reference").
SEC("tc")
int leak(struct __sk_buff *skb)
{
	struct bpf_iter_num it;
	int *v;

	bpf_iter_num_new(&it, 0, 3);
	v = bpf_iter_num_next(&it);
	return v ? *v : 0;
}

// Refused: next after destroy.
SEC("tc")
int after_destroy(struct __sk_buff *skb)
{
	struct bpf_iter_num it;
	int *v;

	bpf_iter_num_new(&it, 0, 3);
	bpf_iter_num_destroy(&it);
	v = bpf_iter_num_next(&it);
	return v ? *v : 0;
}

// Refused: new on a live iterator.
SEC("tc")
int double_new(struct __sk_buff *skb)
{
	struct bpf_iter_num it;

	bpf_iter_num_new(&it, 0, 3);
	bpf_iter_num_new(&it, 0, 4);
	bpf_iter_num_destroy(&it);
	return 0;
}

// Refused: the iterator's bytes read as data.
SEC("tc")
int read_slot(struct __sk_buff *skb)
{
	struct bpf_iter_num it;
	long x;

	bpf_iter_num_new(&it, 0, 3);
	x = *(volatile long *)&it;
	bpf_iter_num_destroy(&it);
	return x;
}

// Refused: the iterator's bytes written (its end moved past the range).
SEC("tc")
int write_slot(struct __sk_buff *skb)
{
	struct bpf_iter_num it;
	int *v, n = 0;

	bpf_iter_num_new(&it, 0, 3);
	((volatile int *)&it)[1] = 1 << 20;
	while ((v = bpf_iter_num_next(&it)))
		n++;
	bpf_iter_num_destroy(&it);
	return n;
}

// Refused: a store through next's pointer.
SEC("tc")
int write_value(struct __sk_buff *skb)
{
	struct bpf_iter_num it;
	int *v;

	bpf_iter_num_new(&it, 0, 3);
	v = bpf_iter_num_next(&it);
	if (v)
		*(volatile int *)v = 7;
	bpf_iter_num_destroy(&it);
	return 0;
}

// Refused: a read past next's 4 bytes.
SEC("tc")
int read_past_value(struct __sk_buff *skb)
{
	struct bpf_iter_num it;
	int *v, x = 0;

	bpf_iter_num_new(&it, 0, 3);
	v = bpf_iter_num_next(&it);
	if (v)
		x = ((volatile int *)v)[1];
	bpf_iter_num_destroy(&it);
	return x;
}

// Refused: next's result used without a NULL check.
SEC("tc")
int unchecked(struct __sk_buff *skb)
{
	struct bpf_iter_num it;
	int x;

	bpf_iter_num_new(&it, 0, 3);
	x = *(volatile int *)bpf_iter_num_next(&it);
	bpf_iter_num_destroy(&it);
	return x;
}

// Refused: once the iterator is drained the loop goes on forever.
SEC("tc")
int never_ends(struct __sk_buff *skb)
{
	struct bpf_iter_num it;
	int *v;

	bpf_iter_num_new(&it, 0, 3);
	for (;;) {
		v = bpf_iter_num_next(&it);
		if (v && *v == 100)
			break;
	}
	bpf_iter_num_destroy(&it);
	return 0;
}

char _license[] SEC("license") = "GPL";
