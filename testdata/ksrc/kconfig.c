/* An extern bool that libbpf fills with a number: LINUX_HAS_SYSCALL_WRAPPER
 * (bpf_tracing.h's BPF_KSYSCALL reads it), 0 or 1 by libbpf's
 * set_kcfg_value_num. Every ksyscall program of samples/bpf (map_perf_test,
 * test_map_in_map, ...) declares it. */
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

extern bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;

SEC("kprobe/do_unlinkat")
int syscall_wrapper(void *ctx)
{
	return LINUX_HAS_SYSCALL_WRAPPER ? 1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
