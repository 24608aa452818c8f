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
#
# Two configurations, each with its own table, interleaved in each round:
#   RPS off: veth's default. a0's receive path (generic XDP, or AF_PACKET for
#     bpfhost) runs in softirq on the generator's CPU, so the rate says how
#     much each receive path slows the sender.
#   RPS on: a0's rx-0/rps_cpus steers its receive path to the last CPU and
#     the generator's thread is pinned to CPU 0, for both sides alike, as a
#     NIC's interrupt (or RPS) picks a receiving CPU that is not the sender's.
# -xdp.rps=both|off|on (default both) picks them; -xdp.pin (default none,other:
# a table each) says where the bpfhost worker that serves the receiving CPU
# runs: none (where the scheduler puts it), rx (pinned to that CPU), other
# (pinned to the generator's). Needs 2 CPUs for RPS on. Each round starts
# with the next configuration and side, so that what one leaves behind (the
# scheduler's placement of other processes) falls on each in turn.
set -euo pipefail
cd "$(dirname "$0")"
go test -count=1 -run '^TestXDPBridgeBench$' -v . -args -xdp.bench \
  -xdp.rounds "${ROUNDS:-7}" -xdp.duration "${DURATION:-1s}" "$@" | grep -v '^=== RUN\|^--- \|^PASS\|^ok'
