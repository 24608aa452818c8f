#!/usr/bin/env bash
# Frames per second through bpfhost's XDP bridge (drop-all and the firewall
# example) beside the kernel's generic XDP on the same veth pair with the same
# generator, and the added round-trip latency (p50, p99) of the bridge beside
# a Linux bridge. Needs root (network namespaces, bpf()). One invocation;
# ROUNDS rounds of DURATION each (defaults 7 and 1s), the sides interleaved in
# each round; medians, the ratio of the medians and the spread of the
# per-round ratios are printed, with CPU time per frame. Further arguments go
# to the test binary: -xdp.sides v3,kernel -xdp.programs drop-all
# -xdp.latency=false measure a part alone (for profiling).
set -euo pipefail
cd "$(dirname "$0")"
go test -count=1 -run '^TestXDPBridgeBench$' -v . -args -xdp.bench \
  -xdp.rounds "${ROUNDS:-7}" -xdp.duration "${DURATION:-1s}" "$@" | grep -v '^=== RUN\|^--- \|^PASS\|^ok'
