// SPDX-License-Identifier: MIT
// Constants of every width for --const: the program returns their sum.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

volatile const __u8 c8 = 1;
volatile const __u16 c16 = 2;
volatile const __u32 c32 = 3;
volatile const __s32 s32 = -4;
volatile const __u64 c64 = 5;

SEC("xdp")
int xdp_consts(struct xdp_md *ctx)
{
	return (int)(c8 + c16 + c32 + s32 + c64);
}

char LICENSE[] SEC("license") = "GPL";
