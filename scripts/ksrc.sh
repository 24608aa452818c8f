#!/usr/bin/env bash
# Builds the BPF objects of Debian's linux-source-6.12 (samples/bpf and
# tools/testing/selftests/bpf/progs) with clang-19 into OUT (default
# /tmp/bpfhost-ksrc), for TestKernelSource:
#
#   scripts/ksrc.sh /tmp/bpfhost-ksrc
#   go test -count=1 -run TestKernelSource -v . \
#     -ksrc /tmp/bpfhost-ksrc/samples:/tmp/bpfhost-ksrc/progs:/usr/lib/x86_64-linux-gnu/systemd
#
# samples/bpf: the old *_kern.c as its Makefile builds them (the configured
# tree's headers after make defconfig prepare, clang -emit-llvm | opt | llc),
# the *.bpf.c with a vmlinux.h of the running kernel's BTF. progs/*.c: as the
# selftests' Makefile builds them for test_progs (-mcpu=v3, the tree's libbpf
# headers, vmlinux.h), without -Werror. What does not build is listed in
# OUT/failed.txt with clang's first error. Nothing is written to the repo.
set -uo pipefail
out=$(realpath -m "${1:-/tmp/bpfhost-ksrc}")
cd "$(dirname "$0")/.."
. scripts/deps.sh
ensure_build_deps
command -v bpftool >/dev/null || apt_install bpftool
[ -e /usr/src/linux-source-6.12.tar.xz ] || apt_install linux-source-6.12
mkdir -p "$out"
src=$out/linux-source-6.12
if [ ! -d "$src" ]; then
  tar -C "$out" -xJf /usr/src/linux-source-6.12.tar.xz || exit 1
fi
if [ ! -e "$src/include/generated/autoconf.h" ]; then
  make -C "$src" -s defconfig >/dev/null && make -C "$src" -s -j"$(nproc)" prepare >/dev/null || exit 1
fi
inc=$out/include
if [ ! -e "$inc/bpf/bpf_helper_defs.h" ]; then
  mkdir -p "$out/libbpf-build" "$inc"
  make -C "$src/tools/lib/bpf" -s install_headers DESTDIR="$out/libbpf" prefix= OUTPUT="$out/libbpf-build/" >/dev/null || exit 1
  cp -r "$out/libbpf/include/bpf" "$inc/"
fi
bpftool btf dump file /sys/kernel/btf/vmlinux format c >"$inc/vmlinux.h" || exit 1

sys=$(clang-19 -v -E - </dev/null 2>&1 | sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
sb=$src/samples/bpf
st=$src/tools/testing/selftests/bpf
mkdir -p "$out/samples" "$out/progs" "$out/log"
: >"$out/failed.txt"

# samples/bpf, the *.bpf.c rule ($(obj)/%.bpf.o) with vmlinux.h in samples/bpf
cp "$inc/vmlinux.h" "$sb/vmlinux.h"
kern_bpf() {
  f=$1; o=$out/samples/$(basename "${f%.c}").o
  clang-19 -g -O2 --target=bpf -D__TARGET_ARCH_x86 -Wno-compare-distinct-pointer-types \
    -I"$src/include" -I"$sb" -I"$src/tools/include" -I"$inc" $sys -c "$f" -o "$o" 2>"$out/log/$(basename "$f").log"
}
# samples/bpf, the old rule ($(obj)/%.o: $(src)/%.c) for the *_kern.c and parse_*.c
kern_old() {
  f=$1; o=$out/samples/$(basename "${f%.c}").o
  clang-19 -nostdinc -I"$src/arch/x86/include" -I"$src/arch/x86/include/generated" -I"$src/include" \
    -I"$src/arch/x86/include/uapi" -I"$src/arch/x86/include/generated/uapi" -I"$src/include/uapi" \
    -I"$src/include/generated/uapi" -include "$src/include/linux/compiler-version.h" \
    -include "$src/include/linux/kconfig.h" -fcf-protection -fno-stack-protector -g \
    -I"$sb" -I"$st" -I"$inc" $sys -D__KERNEL__ -D__BPF_TRACING__ -Wno-unused-value -Wno-pointer-sign \
    -D__TARGET_ARCH_x86 -Wno-compare-distinct-pointer-types -Wno-gnu-variable-sized-type-not-at-end \
    -Wno-address-of-packed-member -Wno-tautological-compare -Wno-unknown-warning-option \
    -fno-asynchronous-unwind-tables -include asm_goto_workaround.h \
    -O2 -emit-llvm -Xclang -disable-llvm-passes -c "$f" -o - 2>"$out/log/$(basename "$f").log" |
    opt-19 -O2 -mtriple=bpf-pc-linux | llvm-dis-19 | llc-19 -march=bpf -filetype=obj -o "$o" 2>>"$out/log/$(basename "$f").log" &&
    [ -s "$o" ]
}
# selftests progs, CLANG_BPF_BUILD_RULE with TRUNNER_BPF_CFLAGS (test_progs)
prog() {
  f=$1; o=$out/progs/$(basename "${f%.c}").o
  clang-19 -g -Wall -D__TARGET_ARCH_x86 -I"$inc" -I"$st" -I"$src/tools/include/uapi" -I"$src/usr/include" \
    -Wno-compare-distinct-pointer-types $sys -DENABLE_ATOMICS_TESTS -O2 --target=bpf -c "$f" -mcpu=v3 \
    -o "$o" 2>"$out/log/$(basename "$f").log"
}
export -f kern_bpf kern_old prog
export out src sb st inc sys
build() { # rule file...
  rule=$1; shift
  printf '%s\n' "$@" | xargs -P"$(nproc)" -I{} bash -c "$rule {} || { rm -f \"\$out/\$(basename {} .c).o\"; echo {}; }" |
    while read -r f; do
      rm -f "$out/samples/$(basename "${f%.c}").o" "$out/progs/$(basename "${f%.c}").o"
      echo "$(basename "$f"): $(grep -m1 -E 'error|fatal' "$out/log/$(basename "$f").log")" >>"$out/failed.txt"
    done
}
# the selftests include the installed uapi headers as usr/include
[ -d "$src/usr/include/linux" ] || make -C "$src" -s headers_install >/dev/null
build kern_bpf "$sb"/*.bpf.c
build kern_old "$sb"/*_kern.c "$sb"/parse_*.c
build prog "$st"/progs/*.c
echo "samples: $(ls "$out/samples" | wc -l) objects; progs: $(ls "$out/progs" | wc -l) objects; failed: $(wc -l <"$out/failed.txt") (see $out/failed.txt)"
