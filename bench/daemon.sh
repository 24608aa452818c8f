#!/usr/bin/env bash
# Measures the daemon beside the kernel in one invocation
# (BenchmarkDaemonVsKernel in cmd/bpfhost, COUNT runs of each, default 5)
# and prints, per operation, the median time and rate of bpfhost and of the
# kernel and their ratio (bpfhost / kernel time; 1.0 means as fast):
#   lookup, update          one map round trip: the daemon's socket
#                           (remote.Client) vs one bpf() syscall (cilium/ebpf)
#   cli-lookup, cli-update  a process: `bpfhost map ...` vs `bpftool map ...`
#   load-OBJECT             `bpfhost prog loadall` through the daemon (its
#                           verifier child included) vs `bpftool prog loadall`
# bpfhost is a binary built here, run as the daemon and as the CLI.
# BPFHOST_BENCH_DAEMON_ARGS=--verify-in-process shows what the verifier
# child costs. Needs root (bpf(), a bpffs mount) and bpftool.
#   bench/daemon.sh
#   COUNT=9 BENCHTIME=2s bench/daemon.sh
set -euo pipefail
cd "$(dirname "$0")/.."
count=${COUNT:-5}
bin=$(mktemp -d)/bpfhost
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./cmd/bpfhost
out=$(BPFHOST_BIN=$bin go test ./cmd/bpfhost -run '^$' -bench DaemonVsKernel -count "$count" -benchtime "${BENCHTIME:-500ms}" | tee /dev/stderr)
echo
echo "$out" | awk '
  /^BenchmarkDaemonVsKernel\// && /ns\/op/ {
    n = split($1, parts, "/"); op = parts[2]; side = parts[3]; sub(/-[0-9]+$/, "", side)
    for (i = 1; i <= NF; i++) if ($(i+1) == "ns/op") v = $i
    vals[op, side] = vals[op, side] " " v
    if (!(op in seen)) { seen[op] = 1; order[++nops] = op }
  }
  function median(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    if (n == 0) return -1
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function show(ns) { return ns >= 1e6 ? sprintf("%9.2f ms", ns / 1e6) : sprintf("%9.1f us", ns / 1e3) }
  END {
    printf "%-18s %12s %12s %12s %12s %10s\n", "operation", "bpfhost", "kernel", "bpfhost/s", "kernel/s", "ratio"
    for (i = 1; i <= nops; i++) {
      op = order[i]; h = median(vals[op, "bpfhost"]); k = median(vals[op, "kernel"])
      if (h <= 0 || k <= 0) continue
      printf "%-18s %12s %12s %12.0f %12.0f %10.1f\n", op, show(h), show(k), 1e9 / h, 1e9 / k, h / k
    }
  }'
