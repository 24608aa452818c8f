/* LSM programs and the hooks they attach to (kernel/bpf/bpf_lsm.c,
 * check_return_code). Programs named bad_* break one of Linux's rules that
 * bpfhost checks: a hook that takes no BPF programs, an lsm_cgroup
 * program's return value. Programs named unchecked_* break a rule bpfhost
 * does not check (lsm programs' return values: bpfhost runs LSM programs
 * nowhere; docs/decisions/0045-annotated-failures.md): Linux refuses them,
 * bpfhost accepts them. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define RETURN(insns)                                  \
	asm volatile(insns "\n\texit" ::: "memory")

int flag;

/* Kernel-style C: the paths' ints meet at one exit. */
SEC("lsm/file_mprotect")
int errno_paths(void *ctx)
{
	if (bpf_get_prandom_u32() & 1)
		return -1; /* -EPERM */
	if (flag)
		return -13; /* -EACCES */
	return 0;
}

/* Linux: "R0 has smin=1 smax=1 should have been in [-4095, 0]". */
SEC("lsm/file_mprotect")
__attribute__((naked)) int unchecked_errno_one(void *ctx) { RETURN("r0 = 1"); }

/* Linux: should have been in [0, 1] (a bool hook). */
SEC("lsm/audit_rule_known")
__attribute__((naked)) int unchecked_bool_two(void *ctx) { RETURN("r0 = 2"); }

SEC("lsm/file_free_security")
__attribute__((naked)) int void_any(void *ctx) { RETURN("r0 = 4096"); }

SEC("lsm/getprocattr")
__attribute__((naked)) int bad_disabled(void *ctx) { RETURN("r0 = 0"); }

SEC("lsm_cgroup/file_mprotect")
__attribute__((naked)) int cgroup_one(void *ctx) { RETURN("r0 = 1"); }

SEC("lsm_cgroup/file_mprotect")
__attribute__((naked)) int bad_cgroup_minus_one(void *ctx) { RETURN("r0 = -1"); }

/* A void hook's lsm_cgroup program cannot change what the hook does. */
SEC("lsm_cgroup/file_free_security")
__attribute__((naked)) int bad_cgroup_void_zero(void *ctx) { RETURN("r0 = 0"); }

SEC("lsm_cgroup/file_free_security")
__attribute__((naked)) int cgroup_void_one(void *ctx) { RETURN("r0 = 1"); }

char _license[] SEC("license") = "GPL";
