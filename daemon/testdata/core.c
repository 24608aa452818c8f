// core.c: CO-RE relocations that only the kernel BTF resolves: the
// program returns 3 against a kernel whose BTF has struct task_struct with
// a pid field and no struct no_such_struct (clang's own values would give
// 7), for the daemon's verifier child, which must read the kernel BTF
// before it gives up opening files.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
	int pid;
} __attribute__((preserve_access_index));

struct no_such_struct {
	int x;
} __attribute__((preserve_access_index));

SEC("xdp")
int core_exists(struct xdp_md *ctx)
{
	return bpf_core_type_exists(struct task_struct) + 2 * bpf_core_field_exists(struct task_struct, pid) +
	       4 * bpf_core_type_exists(struct no_such_struct);
}

char LICENSE[] SEC("license") = "GPL";
