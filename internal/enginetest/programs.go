package enginetest

// ArithLoop is a 1,000-iteration compute loop: xorshift, multiply-add and a
// data-dependent branch.
const ArithLoop = `
	mov %r0, 0
	lddw %r1, 0x9e3779b97f4a7c15
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
`

// MemLoop walks a 256-byte stack buffer 1,000 times: load, add, store.
const MemLoop = `
	mov %r0, 0
	mov %r2, 1000
	mov %r4, %r10
	add %r4, -256
	stdw [%r4], 0
loop:
	mov %r3, %r2
	and %r3, 31
	lsh %r3, 3
	mov %r5, %r4
	add %r5, %r3
	ldxdw %r1, [%r5]
	add %r1, %r2
	stxdw [%r5], %r1
	ldxw %r3, [%r4+4]
	add %r0, %r3
	stxw [%r4+4], %r0
	sub %r2, 1
	jne %r2, 0, loop
	exit
`

// CallLoop makes 1,000 BPF-to-BPF calls and 1,000 calls of helper 1
// (BenchHelpers).
const CallLoop = `
	mov %r6, 1000
	mov %r7, 0
loop:
	mov %r1, %r6
	call local f
	add %r7, %r0
	sub %r6, 1
	jne %r6, 0, loop
	mov %r0, %r7
	exit
f:
	mov %r2, 3
	call 1
	exit
`
