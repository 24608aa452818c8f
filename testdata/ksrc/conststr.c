// bpf_strncmp's third argument is a constant string: in read-only global
// data, and NUL-terminated there (Linux: "string is not zero-terminated").
// The shape of strncmp_test.c's strncmp_bad_not_null_term_target, which
// the selftests write in a "?" section.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define SZ 8

const char target[SZ] = "EEEEEEE";
const char unterminated[SZ] = "12345678";
char str[SZ] = "ABCDEFG";
int ret;

SEC("tp/syscalls/sys_enter_nanosleep")
int strncmp_terminated(void *ctx)
{
	ret = bpf_strncmp(str, SZ, target);
	return 0;
}

SEC("?tp/syscalls/sys_enter_nanosleep")
int bad_strncmp_unterminated(void *ctx)
{
	ret = bpf_strncmp(str, SZ, unterminated);
	return 0;
}

char _license[] SEC("license") = "GPL";
