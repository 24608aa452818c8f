#!/usr/bin/env bash
# The main job on a bundled example: build bpfhost, then assemble and run the
# xorshift compute loop (examples/asm/xorshift.s) with an 8-byte seed, 1,000
# times, in the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ensure_test_deps
go build -o bin/bpfhost ./cmd/bpfhost
bin/bpfhost asm run examples/asm/xorshift.s --mem "15 7c 4a 7f b9 79 37 9e" --repeat 1000 "$@"
