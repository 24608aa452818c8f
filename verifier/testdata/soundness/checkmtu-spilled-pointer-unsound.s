# vattack: bpf_check_mtu's mtu_len (an int pointer) was taken as memory the
# helper fills, so the bytes it points to counted as a number after the call;
# but the XDP helper returns -ENODEV for an unknown device (and -EINVAL for
# flags) without writing them. Here they held the spilled frame pointer: the
# program returned the low half of its host stack address, in both engines.
# Must be rejected (the helper reads the bytes: they must hold no pointer).
mov %r6, %r1
mov %r1, %r10
stxdw [%r10-8], %r1
mov %r1, %r6
mov %r2, 0xdead
mov %r3, %r10
add %r3, -8
mov %r4, 0
mov %r5, 0
call 163
ldxw %r0, [%r10-8]
exit
