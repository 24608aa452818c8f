#!/usr/bin/env bash
# Downloads Cilium's datapath sources (the bpf/ tree of github.com/cilium/cilium,
# from the Go module proxy) and builds its standard objects (bpf_lxc, bpf_host,
# bpf_xdp, bpf_sock, bpf_overlay, bpf_network) with clang-19, in three
# configurations, for TestCilium:
#
#   OUTDIR/default/*.o  Cilium's Makefile flags, no -D options: the node_config.h
#                       and ep_config.h test configuration as it is
#                       (bpf_network.o gets its Makefile options, IPv4+IPv6+IPsec)
#   OUTDIR/dual/*.o     the same with -DENABLE_IPV4=1 -DENABLE_IPV6=1 (the default
#                       configuration has neither, which leaves little code)
#   OUTDIR/max/*.o      `make KERNEL=netnext`: the Makefile's MAX_*_OPTIONS,
#                       which turn on most features (the objects Cilium load-tests)
#   OUTDIR/perm/*.o     only with PERMUTATIONS=1: every option set the Makefile
#                       compile-tests (`make BUILD_PERMUTATIONS=1`: LXC_OPTIONS,
#                       HOST_OPTIONS, XDP_OPTIONS, LB_OPTIONS; about 170 builds),
#                       bpf_lxc-N.o and so on, identical objects once
#
# Nothing is copied into this repository. The only deviation from Cilium's own
# build is a flag: clang-19 warns about implicit 64-to-32-bit conversions that
# the Makefile's -Werror turns into errors, so clang runs with -Wno-error
# appended (sources unchanged).
#
#   scripts/cilium-objects.sh /tmp/cilium [VERSION]   # VERSION: v1.15.19
#   PERMUTATIONS=1 scripts/cilium-objects.sh /tmp/cilium
#   go test -count=1 -run TestCilium -cilium /tmp/cilium -v .
set -euo pipefail
out=${1:?usage: $0 OUTDIR [VERSION]}
version=${2:-v1.15.19}
clang=${CLANG:-clang-19}
llc=${LLC:-llc-19} # Cilium before 1.15 compiles through llc
command -v "$clang" >/dev/null || { echo "$clang is missing: apt-get install -y clang-19 llvm-19" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
dir=$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "github.com/cilium/cilium@$version" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$dir/bpf" ] || { echo "no bpf/ in $dir" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$dir/bpf" "$work/bpf"
chmod -R u+w "$work"
touch "$work/Makefile.defs" # the Makefile includes ../Makefile.defs from the repository's root
printf '#!/bin/sh\nexec %s "$@" -Wno-error\n' "$clang" >"$work/clang"
chmod +x "$work/clang"

objs="bpf_lxc.o bpf_host.o bpf_xdp.o bpf_sock.o bpf_overlay.o bpf_network.o"
build() { # build CONFIG MAKE-ARGS...
  local config=$1
  shift
  rm -f "$work"/bpf/*.o
  make -s -C "$work/bpf" ROOT_DIR="$work" CLANG="$work/clang" LLC="$llc" "$@" $objs 2>"$work/$config.log" ||
    { tail -20 "$work/$config.log" >&2; exit 1; }
  mkdir -p "$out/$config"
  for o in $objs; do cp "$work/bpf/$o" "$out/$config/$o"; done
  echo "$out/$config: $(cd "$out/$config" && ls | tr '\n' ' ')"
}
build default KERNEL=netnext MAX_LB_OPTIONS= MAX_OVERLAY_OPTIONS= MAX_HOST_OPTIONS= MAX_XDP_OPTIONS= MAX_LXC_OPTIONS=
dual="-DENABLE_IPV4=1 -DENABLE_IPV6=1"
build dual KERNEL=netnext MAX_LB_OPTIONS="$dual" MAX_OVERLAY_OPTIONS="$dual" MAX_HOST_OPTIONS="$dual" MAX_XDP_OPTIONS="$dual" MAX_LXC_OPTIONS="$dual"
build max KERNEL=netnext
if [ "${PERMUTATIONS:-}" = 1 ]; then
  # The Makefile's own compile lines for each permutation, each written to
  # a file of its own instead of over the last.
  rm -rf "$out/perm"
  mkdir -p "$out/perm"
  declare -A seen=()
  n=0
  make -s -n -C "$work/bpf" ROOT_DIR="$work" CLANG="$work/clang" LLC="$llc" KERNEL=netnext BUILD_PERMUTATIONS=1 \
    bpf_lxc.o bpf_host.o bpf_xdp.o bpf_sock.o bpf_overlay.o 2>/dev/null | grep "^$work/clang " |
    while read -r line; do
      n=$((n + 1))
      obj=$(sed -n 's/.* -o \([a-z_]*\)\.o$/\1/p' <<<"$line")
      [ -n "$obj" ] || continue
      (cd "$work/bpf" && eval "${line% -o *} -o perm.o" 2>>"$work/perm.log") || { echo "build $n failed: $line" >&2; continue; }
      sum=$(sha256sum "$work/bpf/perm.o" | cut -c1-64)
      if [ -z "${seen[$sum]:-}" ]; then
        seen[$sum]=1
        cp "$work/bpf/perm.o" "$out/perm/$obj-$(printf %03d "$n").o"
      fi
    done
  echo "$out/perm: $(ls "$out/perm" | wc -l) distinct objects"
fi
echo "cilium $version, $("$clang" --version | head -1)" >"$out/VERSION"
