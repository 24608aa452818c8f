// floor.c: the least a seccomp user-notification supervisor can do, to
// measure the floor of bpfhost exec's design (docs/decisions/0014) on the
// same benchmark (TestExecBenchmark, via bench/exec.sh). It is called as
// bpfhost exec is ("floor exec --report R --attach ... -- COMMAND ARGS"),
// ignores everything before "--", and traps connect() and bind() of COMMAND
// (no program runs). Built with -DCONTINUE_AT_ONCE it answers each call
// CONTINUE at once: the cost of the notification round trip alone.
// Otherwise it does what bpfhost does for a call it checks: reads the
// address, duplicates the socket (pidfd_getfd), reads its domain and
// protocol, performs the call itself and answers with its result.
#define _GNU_SOURCE
#include <linux/seccomp.h>
#include <linux/filter.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <pthread.h>
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP 1
#endif

static int lfd;
#ifndef CONTINUE_AT_ONCE
// Thread pidfds, cached by tid as bpfhost caches them.
static struct { int tid, fd; } pidfds[1 << 12];

static int pidfd_of(int tid) {
  int i = tid & ((1 << 12) - 1);
  if (pidfds[i].tid != tid) {
    if (pidfds[i].tid) close(pidfds[i].fd);
    pidfds[i].tid = tid;
    pidfds[i].fd = syscall(SYS_pidfd_open, tid, 0x80 /* PIDFD_THREAD */);
  }
  return pidfds[i].fd;
}
#endif

static void *loop(void *a) {
  struct seccomp_notif req; struct seccomp_notif_resp resp;
  for (;;) {
    memset(&req, 0, sizeof req);
    if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) { if (errno == EINTR || errno == ENOENT) continue; return 0; }
    memset(&resp, 0, sizeof resp);
    resp.id = req.id;
#ifdef CONTINUE_AT_ONCE
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
#else
    {
      int fd = syscall(SYS_pidfd_getfd, pidfd_of(req.pid), (int)req.data.args[0], 0);
      char addr[128]; socklen_t len = req.data.args[2]; if (len > 128) len = 128;
      struct iovec l = {addr, len}, r = {(void *)req.data.args[1], len};
      process_vm_readv(req.pid, &l, 1, &r, 1, 0);
      int v; socklen_t vl = sizeof v;
      getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &vl);
      getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &vl);
      int rc = req.data.nr == __NR_connect ? connect(fd, (void *)addr, len) : bind(fd, (void *)addr, len);
      // A connect restarted after a signal finds the socket connected.
      if (rc < 0 && errno != EISCONN) resp.error = -errno;
      close(fd);
    }
#endif
    ioctl(lfd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
  }
}

int main(int argc, char **argv) {
  int i = 1; while (i < argc && strcmp(argv[i], "--")) i++;
  if (i >= argc - 1) return 2;
  char **cmd = argv + i + 1;
  int sp[2]; socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
  pid_t pid = fork();
  if (pid == 0) {
    struct sock_filter f[] = {
      BPF_STMT(BPF_LD|BPF_W|BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K, __NR_connect, 2, 0),
      BPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K, __NR_bind, 1, 0),
      BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_USER_NOTIF),
    };
    struct sock_fprog p = { .len = 5, .filter = f };
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    int l = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &p);
    if (l < 0) { perror("seccomp"); _exit(126); }
    char c = 0; struct iovec io = {&c, 1};
    char cb[CMSG_SPACE(sizeof(int))]; memset(cb, 0, sizeof cb);
    struct msghdr m = {0}; m.msg_iov = &io; m.msg_iovlen = 1; m.msg_control = cb; m.msg_controllen = sizeof cb;
    struct cmsghdr *h = CMSG_FIRSTHDR(&m); h->cmsg_level = SOL_SOCKET; h->cmsg_type = SCM_RIGHTS; h->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(h), &l, sizeof l);
    // sendmsg is not trapped
    if (sendmsg(sp[1], &m, 0) < 0) _exit(125);
    read(sp[1], &c, 1); // wait until the supervisor holds it
    close(sp[0]); close(sp[1]); close(l);
    execv(cmd[0], cmd);
    _exit(127);
  }
  char c; struct iovec io = {&c, 1};
  char cb[CMSG_SPACE(sizeof(int))];
  struct msghdr m = {0}; m.msg_iov = &io; m.msg_iovlen = 1; m.msg_control = cb; m.msg_controllen = sizeof cb;
  if (recvmsg(sp[0], &m, 0) < 0) return 3;
  memcpy(&lfd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof lfd);
  if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0) perror("sync wake");
  write(sp[0], "g", 1);
  pthread_t t; pthread_create(&t, 0, loop, 0);
  int st; waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
