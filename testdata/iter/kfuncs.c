// Kfuncs bpfhost does not have: a strong extern is a load error naming it
// (libbpf's: "extern (func ksym) ...: not found in kernel or module
// BTFs"); a __weak one may be declared, and only a reachable call of it is
// refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "iter.h"

extern int bpf_bpfhost_missing(int x) __ksym;
extern int bpf_bpfhost_maybe(int x) __ksym __weak;

SEC("tc")
int strong_missing(struct __sk_buff *skb)
{
	if (skb->len == 12345)
		return bpf_bpfhost_missing(1);
	return 0;
}

SEC("tc")
int weak_reachable(struct __sk_buff *skb)
{
	return bpf_bpfhost_maybe(2);
}

// The call is dead code: clang keeps it, the verifier never reaches it.
SEC("tc")
int weak_unreachable(struct __sk_buff *skb)
{
	volatile int never = 0;
	int i, sum = 0;

	if (never && skb->len == 0x7fffffff)
		return bpf_bpfhost_maybe(3);
	for_range(i, 0, 4)
		sum += i;
	return sum;
}

char _license[] SEC("license") = "GPL";
