# soundness fuzzer, seed 12000 (minimized): a 32-bit shift by a register holding 143977192
# gave the result 40 known trailing zero bits (the amount masked to 6 bits, not 5): an
# empty range, and a division by it panicked.
stdw [%r10-32], 143977192
mov32 %r6, 0
add32 %r6, 1
ldxdw %r3, [%r10-32]
jle32 %r5, %r6, +2
lddw %r6, 0xb
lsh32 %r6, %r3
le64 %r9
div %r9, %r6
exit
