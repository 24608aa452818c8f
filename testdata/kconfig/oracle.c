/* Programs that the running kernel can load too (no weak externs, which
 * cilium/ebpf refuses; only config options every kernel with BPF has), for
 * TestKernelConfigKernel: the kernel and bpfhost fill the same values from
 * the running kernel and relocate CO-RE against the same BTF, and must
 * agree. TestCOREKprobe verifies the kprobes against ../btfptr/kernel.o. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* Neither the kernel BTF (../btfptr/kernel.o) nor Linux's struct task_struct
 * has this member. */
struct task_struct {
	int no_such_member;
	int pid;
} __attribute__((preserve_access_index));

__u64 seen;

/* Reads a member the kernel lacks: libbpf poisons the instruction and the
 * kernel refuses the program. */
SEC("kprobe/do_unlinkat")
int core_missing(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	int v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &t->no_such_member);
	seen = v;
	return 0;
}

/* The same read behind bpf_core_field_exists: never taken, accepted. */
SEC("kprobe/do_unlinkat")
int core_guarded(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	int v = 0;

	if (bpf_core_field_exists(t->no_such_member))
		bpf_probe_read_kernel(&v, sizeof(v), &t->no_such_member);
	else
		bpf_probe_read_kernel(&v, sizeof(v), &t->pid);
	seen = v;
	return 0;
}

extern __u32 LINUX_KERNEL_VERSION __kconfig;
extern _Bool CONFIG_BPF __kconfig;
extern enum libbpf_tristate CONFIG_BPF_SYSCALL __kconfig;

/* Checked on kernels before 4.0 only: refused. */
SEC("xdp")
int old_kernels_only(struct xdp_md *ctx)
{
	if (LINUX_KERNEL_VERSION >= KERNEL_VERSION(4, 0, 0))
		return *(volatile __u8 *)(long)ctx->data;
	return XDP_PASS;
}

/* Unchecked only without CONFIG_BPF: accepted. */
SEC("xdp")
int without_bpf(struct xdp_md *ctx)
{
	if (!CONFIG_BPF)
		return *(volatile __u8 *)(long)ctx->data;
	return XDP_PASS;
}

/* Unchecked with CONFIG_BPF_SYSCALL=y: refused. */
SEC("xdp")
int with_bpf_syscall(struct xdp_md *ctx)
{
	if (CONFIG_BPF_SYSCALL == TRI_YES)
		return *(volatile __u8 *)(long)ctx->data;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
