package verifier

import "testing"

// retvalLoadCases call bpf_get_retval (186) and bpf_set_retval (187) from
// cgroup sock and sock_addr programs: Linux's cgroup_common_func_proto
// gives them to every attach type but recvmsg, getpeername and
// getsockname (and inet ingress and egress, cgroup_skb's: TestKernelSourceShapes).
var retvalLoadCases = []loadCase{
	{"sock_create gets", "cgroup/sock_create", "call 186\nmov %r0, 1\nexit", true},
	{"sock_release sets", "cgroup/sock_release", "mov %r1, 0\ncall 187\nmov %r0, 1\nexit", true},
	{"post_bind4 gets", "cgroup/post_bind4", "call 186\nmov %r0, 1\nexit", true},
	{"bind4 gets", "cgroup/bind4", "call 186\nmov %r0, 1\nexit", true},
	{"connect6 gets", "cgroup/connect6", "call 186\nmov %r0, 1\nexit", true},
	{"sendmsg4 sets", "cgroup/sendmsg4", "mov %r1, 0\ncall 187\nmov %r0, 1\nexit", true},
	{"recvmsg4 gets", "cgroup/recvmsg4", "call 186\nmov %r0, 1\nexit", false},
	{"getpeername6 sets", "cgroup/getpeername6", "mov %r1, 0\ncall 187\nmov %r0, 1\nexit", false},
	{"getsockname4 gets", "cgroup/getsockname4", "call 186\nmov %r0, 1\nexit", false},
}

// TestRetvalLoadRules: bpfhost's verifier and Linux's (root; skipped
// otherwise) give each retval case the verdict it expects. The accepted
// ones were refused before ("helper bpf_get_retval is not allowed").
func TestRetvalLoadRules(t *testing.T) {
	checkLoadCases(t, retvalLoadCases, nil, nil)
}
