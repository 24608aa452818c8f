// SPDX-License-Identifier: MIT
// An object whose only code is a function in .text: nothing to run.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) int add(int a, int b)
{
	return a + b;
}

char LICENSE[] SEC("license") = "GPL";
