// Package bench holds the benchmark programs (progs/progs.c) and benchmarks that
// run each of them in bpfhost and in the Linux kernel in the same process, on
// the same 64-byte input: per-run overhead, a 1,000-iteration arithmetic
// loop, 64 hash-map lookups and ring-buffer output. run.sh prints the ratio of
// the medians.
package bench
