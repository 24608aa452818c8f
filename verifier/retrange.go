package verifier

import "math"

// maxErrno is Linux's MAX_ERRNO: a helper's error is a negative errno no
// smaller than -maxErrno.
const maxErrno = 4095

// sizedReturn gives the range of the number a helper returns where its
// buffer's size bounds it, as Linux's do_refine_retval_range does: the
// string readers (bpf_probe_read_str, _kernel_str, _user_str) return the
// bytes they copied, NUL included, and the stack readers (bpf_get_stack,
// bpf_get_task_stack) the bytes they wrote, at most the size argument's
// largest value memMax; or a negative errno. Programs use the result as
// an offset into the buffer (`payload += len` after `if (len >= 0)`:
// selftests' test_varlen.c, test_get_stack_rawtp.c). bpfhost's
// implementations keep to it (helpers.readStr: at most the size, or
// -EFAULT). ok is false for other helpers, or where the size is unknown.
func sizedReturn(name string, memMax int64) (iv ival, ok bool) {
	switch name {
	case "bpf_probe_read_str", "bpf_probe_read_kernel_str", "bpf_probe_read_user_str",
		"bpf_get_stack", "bpf_get_task_stack":
	default:
		return ival{}, false
	}
	if memMax < 0 || memMax > math.MaxInt32 {
		return ival{}, false
	}
	return srange(-maxErrno, memMax), true
}
