// A loop over 2^46 iterator values, which Linux accepts: the run time's
// bounds stop it (TestIterBounded), as any long-running code. Apart from
// iter.c, whose programs the soundness mutants run.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "iter.h"

SEC("tc")
int huge(struct __sk_buff *skb)
{
	int i, j;
	unsigned int n = 0;

	for_range(i, 0, 1 << 23)
		for_range(j, 0, 1 << 23)
			n += i ^ j;
	return n & 1;
}

char _license[] SEC("license") = "GPL";
