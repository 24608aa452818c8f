/* A stand-in for a kernel's BTF: the LSM hooks lsm.c attaches to, with
 * Linux 6.12's prototypes (bpf_lsm_NAME, include/linux/lsm_hook_defs.h).
 * Tests verify lsm.o against kernel.o so that their verdicts do not depend
 * on the kernel of the machine they run on. It is never run. */
struct vm_area_struct {
	unsigned long vm_start;
};
struct file {
	unsigned int f_flags;
};
struct task_struct {
	int pid;
};

/* An int hook: 0 or -errno. */
int bpf_lsm_file_mprotect(struct vm_area_struct *vma, unsigned long reqprot, unsigned long prot)
{
	return vma != 0 && reqprot == prot;
}

/* An int hook whose callers read a bool (Linux's bool_lsm_hooks). */
int bpf_lsm_audit_rule_known(void *krule)
{
	return krule != 0;
}

/* A void hook: its programs' return values are ignored. */
void bpf_lsm_file_free_security(struct file *file)
{
	if (file)
		file->f_flags = 0;
}

/* A hook Linux takes no BPF programs for (bpf_lsm_disabled_hooks). */
int bpf_lsm_getprocattr(struct task_struct *p, const char *name, char **value)
{
	return p != 0 && name != 0 && value != 0;
}
