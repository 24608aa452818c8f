// extern.c references what only the runtime can provide: a __kconfig
// variable (the virtual .kconfig section), a __ksym variable and a kfunc.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern void bpf_prog_active __ksym; // untyped: cilium/ebpf reads no typed ksyms
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

SEC("tp/test/extern")
int uses_externs(void *ctx)
{
	const int *active = bpf_this_cpu_ptr(&bpf_prog_active);

	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	return LINUX_KERNEL_VERSION + *active;
}
