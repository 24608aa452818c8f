/* Programs whose verdict depends on the kernel they load into, as
 * libbpf-tools programs do: through CO-RE relocations of kprobes (resolved
 * against the kernel BTF, as libbpf does for every program type) and through
 * extern __kconfig values (filled from the kernel's version and config,
 * then known to the verifier as constants, as Linux knows a frozen
 * read-only map's bytes). In each, the path the kernel's values rule out
 * reads the packet or a kernel object in a way no verifier accepts. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* The kernel BTF (../btfptr/kernel.o) has struct task_struct without this
 * member. */
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
extern int CONFIG_BPFHOST_TEST_FEATURE __kconfig __weak;
extern char CONFIG_BPFHOST_TEST_TRISTATE __kconfig __weak;

/* On kernels before 4.0 (as a zero LINUX_KERNEL_VERSION would say), reads
 * the packet without a bounds check. */
SEC("xdp")
int by_version(struct xdp_md *ctx)
{
	if (LINUX_KERNEL_VERSION < KERNEL_VERSION(4, 0, 0))
		return *(volatile __u8 *)(long)ctx->data;
	return XDP_PASS;
}

/* Without the (made-up) feature, reads the packet without a bounds check;
 * the test gives CONFIG_BPFHOST_TEST_FEATURE=7 in a config file. */
SEC("xdp")
int by_config(struct xdp_md *ctx)
{
	if (CONFIG_BPFHOST_TEST_FEATURE != 7)
		return *(volatile __u8 *)(long)ctx->data;
	return XDP_PASS;
}

/* A tristate reads as 'y', 'm' or 'n' (0 when unset). */
SEC("xdp")
int by_tristate(struct xdp_md *ctx)
{
	if (CONFIG_BPFHOST_TEST_TRISTATE != 'm')
		return *(volatile __u8 *)(long)ctx->data;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
