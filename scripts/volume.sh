#!/usr/bin/env bash
# Runs the soundness volume of issue 9: the soundness fuzzer (every accepted
# program run in the checked interpreter under containment), for seeds
# FIRST..LAST, each split into SHARDS shards of about 100,000 programs
# (N=10000 programs per generator). Shards run one after the other at low
# priority; a shard whose log already ends in "rc=0" is skipped, so an
# interrupted run resumes where it stopped, in this session or the next.
#
# Usage: scripts/volume.sh FIRST LAST [LOGDIR]      (LOGDIR: volume-logs)
#        scripts/volume.sh -sum [LOGDIR]            (totals of finished shards)
# Example: scripts/volume.sh 6 9 /tmp/vol && scripts/volume.sh -sum /tmp/vol
# A violation or fault fails its shard's test; the log keeps the program.
set -euo pipefail
cd "$(dirname "$0")/.."

sum() {
  # One line per finished shard: "soundness shard K/M (seed B): T programs
  # tried, A accepted (...), R checked runs of I instructions ...".
  grep -h "soundness shard" "$1"/*.log 2>/dev/null | awk '
    { for (i = 1; i <= NF; i++) {
        if ($(i+1) == "programs" && $(i+2) == "tried,") tried += $i
        if ($(i+1) == "accepted" && accepted_seen[NR] == 0) { accepted += $i; accepted_seen[NR] = 1 }
        if ($(i+1) == "checked" && $(i+2) == "runs") runs += $i
        if ($(i+1) == "instructions" && $(i-1) == "of") insns += $i
      }
      if ($0 !~ /no faults/) bad++
      shards++ }
    END { printf "%d shards: %d programs tried, %d accepted, %d checked runs, %d instructions under containment, %d shards with faults\n", shards, tried, accepted, runs, insns, bad }'
  failed=$(grep -L "rc=0" "$1"/*.log 2>/dev/null || true)
  [ -z "$failed" ] || { echo "shards that failed or did not finish:"; echo "$failed"; }
}

if [ "${1:-}" = "-sum" ]; then
  sum "${2:-volume-logs}"
  exit 0
fi
[ $# -ge 2 ] || { sed -n '2,12p' "$0"; exit 2; }
first=$1 last=$2 logs=${3:-volume-logs} shards=${SHARDS:-8}
mkdir -p "$logs"
logs=$(cd "$logs" && pwd)
go test -c -o "$logs/verifier.test" ./verifier
git rev-parse HEAD > "$logs/commit" 2>/dev/null || true
cd verifier
for ((s = first; s <= last; s++)); do
  for ((k = 0; k < shards; k++)); do
    log=$logs/s$s-k$k.log
    if [ -f "$log" ] && tail -1 "$log" | grep -q "rc=0"; then continue; fi
    rc=0
    nice -n 15 "$logs/verifier.test" -test.run 'TestSoundness$' -test.v -test.timeout 60m \
      -verifier.soundness=10000 -verifier.seed="$s" -verifier.shard="$k/$shards" > "$log" 2>&1 || rc=$?
    echo "rc=$rc" >> "$log"
    echo "seed $s shard $k/$shards: rc=$rc"
  done
done
sum "$logs"
