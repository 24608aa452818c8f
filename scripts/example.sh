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
bin/bpfhost run examples/firewall.o --program xdp_firewall \
  --pcap examples/traffic.pcap --map-init examples/firewall-blocklist.json "$@"
