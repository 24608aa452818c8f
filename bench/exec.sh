#!/usr/bin/env bash
# Socket calls of a command supervised by bpfhost exec (issue 13), beside the
# same calls unsupervised, under the kernel's cgroup programs, and under the
# two floor supervisors of bench/execfloor: one that answers every trapped
# call CONTINUE at once (the seccomp notification round trip alone) and one
# that performs the call itself as bpfhost does, with no program. One
# invocation of TestExecBenchmark; CALLS calls per setting and round (default
# 2000), ROUNDS rounds (default 9), the settings interleaved in each round;
# per-round medians, their median and the median of the per-round ratios to
# the unsupervised call. Needs root for the kernel's side (skipped without);
# gcc builds the floors (installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v gcc >/dev/null || apt-get install -y gcc >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
make -s -C bench/execfloor OUT="$out"
go test -count=1 -run '^TestExecBenchmark$' -v ./cmd/bpfhost -exec.bench="${CALLS:-2000}" \
  -exec.bench.rounds="${ROUNDS:-9}" -exec.bench.against="$out/floor-continue,$out/floor-perform" "$@" |
  grep -v '^=== RUN\|^--- \|^PASS\|^ok'
