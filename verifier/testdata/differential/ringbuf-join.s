# Kernel differential finding (progen.Hostile, seed 4, program 293), tc
# program: two ring buffer records, one picked on a random branch into r9
# (a join of two references), both submitted, then a write through r9.
# Linux rejects the write ("R9 invalid mem access 'scalar'": the copy died
# with the records); bpfhost loses the references' ids at the join, keeps
# r9 valid after both submits and accepts a write into a released record
# (../shared/security e7).
# section: tc
mov %r6, %r1
.raw 1851000001000000 # lddw r1, map 1 (rb)
.raw 0000000000000000
mov %r2, 16
mov %r3, 0
call 131
mov %r7, %r0
jeq %r7, 0, +23
.raw 1851000001000000 # lddw r1, map 1 (rb)
.raw 0000000000000000
mov %r2, 16
mov %r3, 0
call 131
mov %r8, %r0
jne %r8, 0, +4
mov %r1, %r7
mov %r2, 0
call 133
ja +12
call 7
mov %r9, %r7
jgt %r0, 100, +1
mov %r9, %r8
stdw [%r9], 5
mov %r1, %r7
mov %r2, 0
call 132
mov %r1, %r8
mov %r2, 0
call 132
stdw [%r9], 6
mov %r0, 2
exit
