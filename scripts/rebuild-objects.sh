#!/usr/bin/env bash
# Rebuilds every committed eBPF object from its C source with clang-19.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ensure_build_deps
for mk in $(git ls-files '*Makefile' | grep -v '^Makefile$'); do
  make -C "$(dirname "$mk")"
done
