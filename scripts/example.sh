#!/usr/bin/env bash
# The main job on a bundled example: build bpfhost and run the example XDP
# firewall (examples/firewall.c, compiled for Linux with clang) over the
# sample traffic, with a blocklist loaded into its LPM maps first. Extra
# arguments go to bpfhost run (e.g. --json).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ensure_test_deps
go build -o bin/bpfhost ./cmd/bpfhost
# The sample capture ends with a 10-byte runt that Linux's test run refuses:
# bpfhost reports every packet, says "1 packet of 13 refused" and exits 2
# (bad input). That is the expected outcome here; any other failure is not.
status=0
err=$(mktemp)
trap 'rm -f "$err"' EXIT
bin/bpfhost run examples/firewall.o --program xdp_firewall \
  --pcap examples/traffic.pcap --map-init examples/firewall-blocklist.json "$@" 2>"$err" || status=$?
cat "$err" >&2
if [ "$status" -eq 2 ] && grep -qx 'bpfhost: 1 packet of 13 refused' "$err"; then
  status=0
fi
exit "$status"
