#!/usr/bin/env bash
# Runs every benchmark of bench/ in bpfhost and in the Linux kernel in one
# invocation (COUNT times each, default 6) and prints, per benchmark, the
# median ns per run of each engine and of the kernel, and each engine's
# ratio to the kernel (engine / kernel; 1.0 means as fast as Linux), and
# the checked JIT's ratio to the trusted JIT of the same run (chk/jit), also
# in process CPU time per run (chk/jit cpu), which a busy machine disturbs
# less than the wall clock.
#   bench/run.sh            # interpreter (the default engine)
set -euo pipefail
cd "$(dirname "$0")"
count=${COUNT:-6}
out=$(go test -run '^$' -bench . -count "$count" -benchtime "${BENCHTIME:-1s}" . | tee /dev/stderr)
echo
echo "$out" | awk '
  /ns\/run/ {
    split($1, parts, "/"); name = parts[1]; side = parts[2]; sub(/-[0-9]+$/, "", side)
    c = ""
    for (i = 1; i <= NF; i++) { if ($(i+1) == "ns/run") v = $i; if ($(i+1) == "cpu-ns/run") c = $i }
    vals[name, side] = vals[name, side] " " v; names[name] = 1
    if (c != "") cpu[name, side] = cpu[name, side] " " c
  }
  function median(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    if (n == 0) return -1
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    printf "%-22s %12s %12s %12s %12s %10s %10s %10s %12s\n", "benchmark", "interp ns", "jit ns", "jit-chk ns", "kernel ns", "interp/k", "jit/k", "chk/jit", "chk/jit cpu"
    for (n in names) {
      i = median(vals[n, "interp"]); j = median(vals[n, "jit"]); c = median(vals[n, "jit-checked"]); k = median(vals[n, "kernel"])
      r = (j > 0 && c > 0) ? sprintf("%10.2f", c / j) : sprintf("%10s", "-")
      jc = median(cpu[n, "jit"]); cc = median(cpu[n, "jit-checked"])
      r = r ((jc > 0 && cc > 0) ? sprintf(" %12.2f", cc / jc) : sprintf(" %12s", "-"))
      if (k > 0) printf "%-22s %12.1f %12.1f %12.1f %12.1f %10.2f %10.2f %s\n", n, i, j, c, k, i / k, j / k, r
      else printf "%-22s %12.1f %12.1f %12.1f %12s %10s %10s %s\n", n, i, j, c, "-", "-", "-", r
    }
  }'
