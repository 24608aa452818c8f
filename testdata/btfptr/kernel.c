/* A stand-in for a kernel's BTF: the attach points of btfptr.c with the
 * types of kern.h. Tests verify btfptr.o against kernel.o
 * (--kernel-btf testdata/btfptr/kernel.o) so that their verdicts do not
 * depend on the kernel of the machine they run on. It is never run. */
#include "kern.h"

int do_unlinkat(int dfd, struct filename *name)
{
	return dfd + (name != 0);
}

int bpf_lsm_file_open(struct file *file)
{
	return file != 0;
}

int bpf_iter_task(struct bpf_iter_meta *meta, struct task_struct *task)
{
	return meta != 0 && task != 0;
}

/* As Linux declares every tracepoint's BTF type (include/trace/bpf_probe.h). */
typedef void (*btf_trace_sched_switch)(void *, _Bool, struct task_struct *, struct task_struct *, unsigned int);
btf_trace_sched_switch sched_switch_type;

/* The context type iterator programs are written against. */
struct bpf_iter__task iter_task_ctx;

/* A function with a 16-byte struct passed by value: it takes two argument
 * slots, and the task pointer the third. */
struct pair {
	long a, b;
};

int bpfhost_by_value(struct pair p, struct task_struct *task)
{
	return p.a + (task != 0);
}
