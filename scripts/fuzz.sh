#!/usr/bin/env bash
# Runs every fuzz target of the repository, one after the other, for
# FUZZTIME each (default 60s). The targets are found, not listed: every
# `func FuzzX(f *testing.F)` in a _test.go file runs, so a new target is
# fuzzed without editing this script.
#
# Usage: scripts/fuzz.sh [-list] [REGEXP]
#   -list    print the targets (package and name) and exit
#   REGEXP   run only the targets whose name matches
# The long run the project asks for (10 minutes per target):
#   FUZZTIME=10m scripts/fuzz.sh        (or: make fuzz FUZZTIME=10m)
#
# A target fails on a crash, and on a stall: Go's fuzzer stops with
# "fuzzing process hung or terminated unexpectedly" when one input runs
# longer than 10 s, and -timeout bounds the whole run of each target.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-60s}
# Go minimizes every input that finds new coverage, for up to a minute by
# default; on inputs as big as an ELF object (FuzzPipeline, FuzzLoad) that
# is a minute of no fuzzing each time, which looks like a stall. Crashers
# are minimized too, as far as this allows.
minimize=${FUZZMINIMIZETIME:-1s}
list=0
[ "${1:-}" = "-list" ] && { list=1; shift; }
only=${1:-.}

targets=$(git grep -n -E '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' -- '*_test.go' 2>/dev/null ||
  grep -rn --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' .)
targets=$(echo "$targets" | sed -E 's#^(\./)?([^:]*):[0-9]+:func (Fuzz[A-Za-z0-9_]*)\(.*#\2 \3#' | sort)
[ -n "$targets" ] || { echo "no fuzz targets found" >&2; exit 1; }

# -timeout: the fuzzing time and 10 minutes for building and the seed
# corpus (FUZZTIME as Ns, Nm, Nh or an iteration count Nx; other forms get
# no bound beyond Go's own).
case $fuzztime in
  *[0-9]x) timeout=10m ;;
  *[0-9]s) timeout=$(( ${fuzztime%s} + 600 ))s ;;
  *[0-9]m) timeout=$(( ${fuzztime%m} + 10 ))m ;;
  *[0-9]h) timeout=$(( ${fuzztime%h} * 60 + 10 ))m ;;
  *) timeout=0 ;;
esac

failed=()
while read -r file name; do
  echo "$name" | grep -qE -- "$only" || continue
  pkg=./$(dirname "$file")
  if [ $list = 1 ]; then echo "$pkg $name"; continue; fi
  echo "== $pkg $name ($fuzztime)"
  corpus=$(dirname "$file")/testdata/fuzz/$name
  before=$( (ls "$corpus" 2>/dev/null || true) | wc -l)
  log=$(mktemp)
  if ! go test "$pkg" -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" -timeout "$timeout" </dev/null 2>&1 | tee "$log"; then
    # Go before 1.27 can fail a target at the -fuzztime deadline with a bare
    # "context deadline exceeded" (golang/go#75804): no input is written and
    # nothing was found. Anything else, or a written input, is a finding.
    after=$( (ls "$corpus" 2>/dev/null || true) | wc -l)
    if [ "$after" = "$before" ] && grep -q '^    context deadline exceeded$' "$log" &&
      [ "$(grep -c '^--- FAIL' "$log")" = 1 ]; then
      echo "($name: the fuzz coordinator's deadline race, golang/go#75804; not a finding)"
    else
      failed+=("$pkg $name")
    fi
  fi
  rm -f "$log"
done <<< "$targets"

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz targets that failed:"; printf '  %s\n' "${failed[@]}"; exit 1
fi
