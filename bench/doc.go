// Package bench holds the benchmark programs (progs/progs.c) and benchmarks that
// run each of them in bpfhost and in the Linux kernel in the same process, on
// the same 64-byte input: per-run overhead, a 1,000-iteration arithmetic
// loop, 64 hash-map lookups and ring-buffer output. run.sh prints the ratio of
// the medians. daemon.sh does the same for the daemon (map round trips and
// loads beside bpftool and the kernel), whose benchmark lives with the
// daemon's end-to-end tests in cmd/bpfhost.
package bench
