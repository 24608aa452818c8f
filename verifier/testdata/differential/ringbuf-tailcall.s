# Kernel differential finding (progen.Hostile, seed 1, program 590), xdp
# program: bpf_tail_call while a ring buffer record is held. Linux rejects
# it ("tail_call would lead to reference leak"): a tail call that succeeds
# never returns, and the record is never submitted or discarded
# (../shared/security e6). bpfhost accepts it.
# section: xdp
mov %r6, %r1
.raw 1851000001000000 # lddw r1, map 1 (rb)
.raw 0000000000000000
mov %r2, 16
mov %r3, 0
call 131
mov %r7, %r0
jeq %r7, 0, +9
stdw [%r7+8], 1
mov %r1, %r6
.raw 1852000002000000 # lddw r2, map 2 (progs)
.raw 0000000000000000
mov %r3, 1
call 12
mov %r1, %r7
mov %r2, 0
call 132
mov %r0, 1
exit
