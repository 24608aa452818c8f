/* Linux's license rules: a program whose object's license is not
 * GPL-compatible may not call a GPL-only helper nor read a kernel object
 * through a BTF pointer (samples/bpf's xdp_sample.bpf.c, built on its own,
 * has no license and reads struct net_device in tp_btf programs). The
 * Makefile builds this file twice: license_gpl.o, which Linux and bpfhost
 * accept, and license_other.o ("Proprietary"), which both refuse. */
#include "../btfptr/kern.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 seen;

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_read, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	seen = prev->pid;
	return 0;
}

SEC("kprobe/do_unlinkat")
int gpl_helper(void *ctx)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), ctx);
	seen = v;
	return 0;
}

/* bpf_map_lookup_elem and friends are not GPL-only: any license may call
 * them. */
SEC("kprobe/do_unlinkat")
int any_helper(void *ctx)
{
	seen = bpf_ktime_get_ns();
	return 0;
}

char LICENSE[] SEC("license") = LICENSE_STRING;
