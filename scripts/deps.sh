# Installs what the scripts need on a fresh Debian machine with Go. Sourced.

apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "note: cannot install $* (not root or no apt-get); dependent tests will skip" >&2
    return 0
  fi
  if [ -z "${APT_UPDATED:-}" ]; then
    apt-get update -qq >/dev/null 2>&1 || true
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 ||
    echo "note: apt-get install $* failed; dependent tests will skip" >&2
}

# llvm-objdump is the oracle for the LLVM-syntax disassembler's tests.
ensure_test_deps() {
  command -v go >/dev/null || { echo "Go is required (https://go.dev/dl)"; exit 1; }
  command -v llvm-objdump >/dev/null || apt_install llvm
}

# clang-19 (the pinned compiler of every Makefile) and the libbpf headers
# rebuild the example and testdata objects: scripts/rebuild-objects.sh.
ensure_build_deps() {
  command -v clang-19 >/dev/null || apt_install clang-19 llvm-19
  [ -e /usr/include/bpf/bpf_helpers.h ] || apt_install libbpf-dev linux-libc-dev
}
