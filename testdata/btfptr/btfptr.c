/* BTF-typed programs that read kernel objects through their arguments, as
 * libbpf-tools programs do. Programs named bad_* break one of Linux's rules
 * for such pointers, and both Linux and bpfhost refuse them. */
#include "kern.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 seen_pid, seen_ppid, seen_flags, seen_ret, seen_byte, seen_ptr;

SEC("fentry/do_unlinkat")
int BPF_PROG(fentry_unlink, int dfd, struct filename *name)
{
	char buf[16];

	bpf_probe_read_kernel_str(buf, sizeof(buf), name->name);
	seen_byte = buf[0];
	return 0;
}

SEC("fexit/do_unlinkat")
int BPF_PROG(fexit_unlink, int dfd, struct filename *name, int ret)
{
	seen_ret = ret;
	seen_ptr = (__u64)name->name;
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	seen_pid = prev->pid;
	seen_ppid = next->real_parent->tgid;
	seen_byte = next->comm[1];
	if (prev->real_parent == 0) /* a BTF pointer may be compared with NULL */
		seen_ppid = 0;
	return 0;
}

SEC("lsm/file_open")
int BPF_PROG(on_open, struct file *file)
{
	seen_flags = file->f_flags;
	return 0;
}

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;

	if (!t)
		return 0;
	seen_pid = t->pid;
	seen_ppid = ctx->meta->seq_num;
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(current_task)
{
	struct task_struct *t = bpf_get_current_task_btf();

	seen_pid = t->tgid;
	seen_ptr = (__u64)t->real_parent; /* a BTF pointer stored as a number */
	return 0;
}

/* struct filename ends with a flexible char array: reads past its size
 * fall in it and read numbers. */
SEC("fentry/do_unlinkat")
int BPF_PROG(flex_tail, int dfd, struct filename *name)
{
	seen_byte = *(volatile __u64 *)((char *)name + 40);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(bad_write, bool preempt, struct task_struct *prev)
{
	prev->pid = 1;
	return 0;
}

SEC("iter/task")
int bad_beyond(struct bpf_iter__task *ctx)
{
	/* struct bpf_iter_meta is 24 bytes. */
	seen_pid = *(volatile __u64 *)((char *)ctx->meta + 24);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(bad_var_off, bool preempt, struct task_struct *prev)
{
	seen_byte = ((volatile char *)prev)[bpf_get_prandom_u32() & 7];
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(bad_ptr_half, bool preempt, struct task_struct *prev)
{
	seen_ptr = *(volatile __u32 *)&prev->real_parent;
	return 0;
}

SEC("iter/task")
int bad_iter_null(struct bpf_iter__task *ctx)
{
	seen_pid = ctx->task->pid;
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(bad_negative, bool preempt, struct task_struct *prev)
{
	seen_pid = *(volatile int *)((char *)prev - 8);
	return 0;
}

/* kernel.o's bpfhost_by_value(struct pair p, struct task_struct *task): p
 * takes args[0] and args[1], task is args[2]. Not in Linux. */
SEC("fentry/bpfhost_by_value")
int by_value(unsigned long long *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx[2];

	seen_pid = task->pid + ctx[1];
	return 0;
}

/* A BTF pointer passed to bpf_loop as its count: its interval in the
 * verifier is its offset (0), not its value, which bpfhost took for the
 * number of calls, so the callback's index was believed 0 and the write
 * below in bounds; a run with prev = 6 wrote past the end of .bss. */
__u64 loop_slots[4];

static long loop_slot(__u64 i, void *ctx)
{
	loop_slots[i] = 1;
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(bad_loop_count, bool preempt, struct task_struct *prev)
{
	bpf_loop((unsigned long)prev, loop_slot, NULL, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
