# Kernel differential finding (progen.Hostile, seed 1, program 427), tc
# program: a plain store to the bpf_spin_lock word of a map value. Linux
# rejects it ("bpf_spin_lock cannot be accessed directly by load/store");
# bpfhost accepts it, and a lock word set to 1 makes the next bpf_spin_lock
# spin forever (../shared/security e4).
# section: tc
mov %r6, %r1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
.raw 1851000003000000 # lddw r1, map 3 (lock: bpf_spin_lock at 0, u32 at 4)
.raw 0000000000000000
call 1
jeq %r0, 0, +9
mov %r7, %r0
stw [%r7], 1
mov %r1, %r7
call 93
ldxw %r2, [%r7+4]
add %r2, 1
stxw [%r7+4], %r2
mov %r1, %r7
call 94
mov %r0, 0
exit
