// Nested loops over n iterator values each, which Linux accepts for any n:
// with n = 1<<23 (TestIterBounded sets it) 2^46 trips, which the run time's
// bounds stop, as any long-running code. n is 0 unless set, so that the
// tests that run every object in the repository find it cheap.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "iter.h"

const volatile int n = 0;

SEC("tc")
int huge(struct __sk_buff *skb)
{
	int i, j;
	unsigned int sum = 0;

	for_range(i, 0, n)
		for_range(j, 0, n)
			sum += i ^ j;
	return sum & 1;
}

char _license[] SEC("license") = "GPL";
