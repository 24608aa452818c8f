#!/usr/bin/env bash
# Frames per second through bpfhost's XDP bridge (drop-all and the firewall
# example) beside the kernel's generic XDP on the same veth pair with the same
# generator, and the added round-trip latency (p50, p99) of the bridge beside
# a Linux bridge. Needs root (network namespaces, bpf()). One invocation;
# ROUNDS rounds of DURATION each (defaults 3 and 2s), medians printed.
set -euo pipefail
cd "$(dirname "$0")"
go test -count=1 -run '^TestXDPBridgeBench$' -v . -args -xdp.bench \
  -xdp.rounds "${ROUNDS:-3}" -xdp.duration "${DURATION:-2s}" | grep -v '^=== RUN\|^--- \|^PASS\|^ok'
