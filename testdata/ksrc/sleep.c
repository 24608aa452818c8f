/* bpf_copy_from_user may sleep: Linux lets only sleepable programs
 * (sections such as "uprobe.s", "fentry.s", "lsm.s") call it
 * (kprobe_multi_sleepable.c's kprobe.multi program). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

void *user_ptr;
int seen;

SEC("uprobe.s//bin/true:main")
int sleepable_copy(void *ctx)
{
	int a = 0;

	bpf_copy_from_user(&a, sizeof(a), user_ptr);
	seen = a;
	return 0;
}

SEC("uprobe//bin/true:main")
int bad_copy_not_sleepable(void *ctx)
{
	int a = 0;

	bpf_copy_from_user(&a, sizeof(a), user_ptr);
	seen = a;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
