#!/usr/bin/env bash
# Runs every benchmark of bench/ in bpfhost and in the Linux kernel in one
# invocation (COUNT times each, default 6) and prints, per benchmark, the
# median ns per run of each and their ratio (bpfhost / kernel).
#   bench/run.sh            # interpreter (the default engine)
set -euo pipefail
cd "$(dirname "$0")"
count=${COUNT:-6}
out=$(go test -run '^$' -bench . -count "$count" -benchtime "${BENCHTIME:-1s}" . | tee /dev/stderr)
echo
echo "$out" | awk '
  /ns\/run/ {
    split($1, parts, "/"); name = parts[1]; side = parts[2]; sub(/-[0-9]+$/, "", side)
    for (i = 1; i <= NF; i++) if ($(i+1) == "ns/run") v = $i
    vals[name, side] = vals[name, side] " " v; names[name] = 1
  }
  function median(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    if (n == 0) return -1
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    printf "%-22s %14s %14s %8s\n", "benchmark", "bpfhost ns/run", "kernel ns/run", "ratio"
    for (n in names) {
      b = median(vals[n, "bpfhost"]); k = median(vals[n, "kernel"])
      if (k > 0) printf "%-22s %14.1f %14.1f %8.2f\n", n, b, k, b / k
      else printf "%-22s %14.1f %14s %8s\n", n, b, "-", "-"
    }
  }'
