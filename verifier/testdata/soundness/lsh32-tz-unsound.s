# soundness fuzzer, seed 16000: the same wrong trailing zeros emptied r8's range, the
# state after it counted as unreachable, and the read through a number at insn 103 was
# accepted. Must be rejected.
lddw %r0, 0x100000001
lddw %r1, 0xffff8000
lddw %r2, 0x9
lddw %r3, 0xffffffffdb085ee3
lddw %r4, 0x8
lddw %r5, 0x8
lddw %r6, 0xffffffffe122b440
lddw %r7, 0xa962885
lddw %r8, 0x1
lddw %r9, 0xfffffffffffffffe
jlt %r3, -128, +12
and %r5, 660457533
le32 %r8
mov %r2, -1279281333
add %r6, %r4
rsh32 %r5, %r9
rsh %r8, 61
jne %r2, 1137873634, +3
lddw %r4, 0xffffffffc2c11b3f
ja +1
mul32 %r9, %r4
ja +12
stxh [%r10-14], %r6
sth [%r10-2], 15
mod32 %r8, %r1
rsh32 %r6, 10
mov %r1, 2
xor32 %r0, 573724601
lsh32 %r8, %r6
and32 %r5, %r9
lddw %r9, 0x389435f3e735d9ee
add %r1, -1
jsgt %r1, 0, -7
lddw %r3, 0xffffffff
mod %r0, %r3
stxdw [%r10-24], %r2
stb [%r10-20], 1719483762
ldxh %r5, [%r10-18]
mod %r8, %r1
ldxb %r8, [%r10-24]
lddw %r2, 0xb5577fad4fea98ea
neg %r3
stxb [%r10-17], %r6
arsh %r3, 62
xor %r0, %r1
mul %r0, 625341585
mov %r1, %r0
rsh %r1, 32
xor %r0, %r1
xor %r0, %r2
mul %r0, 625341585
mov %r2, %r0
rsh %r2, 32
xor %r0, %r2
xor %r0, %r3
mul %r0, 625341585
mov %r3, %r0
rsh %r3, 32
xor %r0, %r3
xor %r0, %r4
mul %r0, 625341585
mov %r4, %r0
rsh %r4, 32
xor %r0, %r4
xor %r0, %r5
mul %r0, 625341585
mov %r5, %r0
rsh %r5, 32
xor %r0, %r5
xor %r0, %r6
mul %r0, 625341585
mov %r6, %r0
rsh %r6, 32
xor %r0, %r6
xor %r0, %r7
mul %r0, 625341585
mov %r7, %r0
rsh %r7, 32
xor %r0, %r7
xor %r0, %r8
mul %r0, 625341585
mov %r8, %r0
rsh %r8, 32
xor %r0, %r8
xor %r0, %r9
mul %r0, 625341585
mov %r9, %r0
rsh %r9, 32
xor %r0, %r9
ldxdw %r1, [%r3-24]
xor %r0, %r1
mul %r0, 625341585
mov %r1, %r0
rsh %r1, 32
xor %r0, %r1
exit
