// Package sockaddr runs cgroup sock_addr programs (cgroup/connect4, bind4,
// sendmsg4, recvmsg4, getpeername4, getsockname4 and their IPv6 forms) and
// cgroup_sock programs (sock_create, post_bind4, post_bind6) on the real socket calls of a command and of
// every thread and process it starts, in user space.
//
// Start re-executes the current binary as a small shim (this package's init
// recognises it by an environment variable, so any program that imports
// the package can be a supervisor). The shim sets no_new_privs, installs a
// seccomp filter that sends the hooked calls (connect, bind, send calls
// with an address, ...) to user notification, hands the listener to the supervisor and execs the
// command. The filter is inherited by threads, forks and execs. For each
// call the supervisor reads the address from the target's memory, checks
// that the notification is still live, takes a duplicate of the target's
// socket (pidfd_getfd), runs the programs on a struct bpf_sock_addr built
// from them, and performs the call itself on the duplicate with the
// checked, possibly rewritten address; the target gets its result. A
// program returning 0 makes the call fail with EPERM, as in Linux.
// docs/decisions/0014-sockaddr-supervision.md says why.
//
// Programs see the duplicate as their socket: ctx->sk is filled from it
// (for programs that read it), bpf_setsockopt and bpf_getsockopt act on
// it, and sk storage maps keep a value per socket by its cookie
// (docs/decisions/0038-sock-addr-socket.md).
//
// If the supervisor goes away, the calls fail (seccomp answers ENOSYS):
// supervised calls never run unchecked.
//
// Only Linux supports it; elsewhere Start returns ErrNotSupported.
package sockaddr
