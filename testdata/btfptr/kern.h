/* Minimal kernel types for the BTF pointer tests, in the style of the
 * vmlinux.h that `bpftool btf dump file /sys/kernel/btf/vmlinux format c`
 * writes, with only the members the programs use. preserve_access_index
 * makes clang record CO-RE relocations for every member access, so that a
 * loader relocates the offsets against the running kernel's BTF: the
 * programs load in the kernel whatever its layout. kernel.c compiles these
 * same types into kernel.o, a small "kernel BTF" for tests that must not
 * depend on the machine's kernel. struct filename and struct bpf_iter_meta
 * have Linux's layout (the flexible array and the size matter to tests). */
#ifndef BPFHOST_KERN_H
#define BPFHOST_KERN_H

#include <linux/types.h>
#include <stdbool.h>

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct audit_names;
struct seq_file;

struct filename {
	const char *name;
	const char *uptr;
	int refcnt;
	struct audit_names *aname;
	const char iname[0];
};

struct list_head {
	struct list_head *next, *prev;
};

struct task_struct {
	unsigned int __state;
	unsigned int flags;
	struct list_head tasks;
	int pid;
	int tgid;
	struct task_struct *real_parent;
	char comm[16];
};

struct file {
	unsigned int f_mode;
	unsigned int f_flags;
	void *private_data;
};

struct bpf_iter_meta {
	union {
		struct seq_file *seq;
	};
	__u64 session_id;
	__u64 seq_num;
};

struct bpf_iter__task {
	union {
		struct bpf_iter_meta *meta;
	};
	union {
		struct task_struct *task;
	};
};

#pragma clang attribute pop

#endif
