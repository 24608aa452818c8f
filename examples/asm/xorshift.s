# A 1,000-iteration compute loop: xorshift64, multiply-add and a
# data-dependent branch. The seed is the first 8 bytes of the input memory.
	ldxdw %r1, [%r1]
	mov %r0, 0
	mov %r2, 1000
loop:
	mov %r3, %r1
	lsh %r3, 13
	xor %r1, %r3
	mov %r3, %r1
	rsh %r3, 7
	xor %r1, %r3
	mov %r3, %r1
	lsh %r3, 17
	xor %r1, %r3
	mul %r0, 31
	add %r0, %r1
	jset %r1, 1, odd
	add %r0, 7
odd:
	sub %r2, 1
	jne %r2, 0, loop
	exit
