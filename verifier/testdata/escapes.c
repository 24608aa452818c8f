// SPDX-License-Identifier: MIT
// Escapes: programs an earlier verifier accepted although they are unsafe,
// in shapes of their own (the reproducers that found them are in
// ../shared/security/escapes). Each REJECT comment names the message the
// first finding must contain; the finding must be on that line (inline
// assembly maps every instruction to its asm statement's line).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define __naked __attribute__((naked))
#define __imm(name) [name] "i"(name)
#define __imm_addr(name) [name] "i"(&name)

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} hmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} jt SEC(".maps");

struct locked {
	__u64 a;
	struct bpf_spin_lock l;
	__u32 x;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct locked);
} lmap SEC(".maps");

/* 32-bit copies of data_end survive bpf_xdp_adjust_tail. */
SEC("xdp") __naked int pkt32_adjust_tail(void)
{
	asm volatile ( // REJECT: invalidated by the helper call
	"r6 = r1; r2 = *(u32 *)(r6 + 0); r3 = *(u32 *)(r6 + 4);"
	"r4 = r2; r4 += 14; if r4 > r3 goto 1f;"
	"w8 = w3;"
	"r1 = r6; r2 = -4; call %[bpf_xdp_adjust_tail];"
	"if r0 != 0 goto 1f;"
	"r3 = *(u32 *)(r6 + 4); w9 = w3;"
	"if r9 < r8 goto 2f;"
	"1: r0 = 2; exit;"
	"2: r1 = 0x41414141; *(u64 *)(r1 + 0) = r1; r0 = 2; exit;"
	:: __imm(bpf_xdp_adjust_tail) : "memory");
}

/* Low halves of addresses wrap at 2^32: their order says nothing. */
SEC("xdp") __naked int pkt32_wrap(void)
{
	asm volatile ( // REJECT: write through r1, which is a number
	"r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4);"
	"w8 = w2; w9 = w3;"
	"if r9 < r8 goto 2f;"
	"r0 = 2; exit;"
	"2: r1 = 0x41414141; *(u64 *)(r1 + 0) = r1; r0 = 2; exit;"
	::: "memory");
}

/* The low half of an address may be 0. */
SEC("xdp") __naked int pkt32_zero(void)
{
	asm volatile ( // REJECT: write through r1, which is a number
	"r2 = *(u32 *)(r1 + 0); w8 = w2;"
	"if r8 == 0 goto 2f;"
	"r0 = 2; exit;"
	"2: r1 = 0x41414141; *(u64 *)(r1 + 0) = r1; r0 = 2; exit;"
	::: "memory");
}

__attribute__((noinline, used)) __naked static int count_cb(void)
{
	asm volatile (
	"r3 = *(u64 *)(r2 + 0); r3 += 1; *(u64 *)(r2 + 0) = r3;"
	"r5 = 2; r5 = 4; r5 = 6; r5 = 8; r5 = 10; r5 = 12; r5 = 14; r5 = 16; r5 = 18; r5 = 20; r5 = 22; r5 = 24; r5 = 26; r5 = 28; r5 = 30; r5 = 32; r5 = 34; r5 = 36; r5 = 38; r5 = 40; r5 = 42; r5 = 44; r5 = 46; r5 = 48; r5 = 50; r5 = 52; r5 = 54; r5 = 56; r5 = 58; r5 = 60; r5 = 62; r5 = 64; r5 = 66; r5 = 68; r5 = 70; r5 = 72; r5 = 74; r5 = 76; r5 = 78; r5 = 80; r5 = 82; r5 = 84; r5 = 86; r5 = 88; r5 = 90; r5 = 92; r5 = 94; r5 = 96; r5 = 98; r5 = 100; r5 = 102; r5 = 104; r5 = 106; r5 = 108; r5 = 110; r5 = 112; r5 = 114; r5 = 116; r5 = 118; r5 = 120; r5 = 122; r5 = 124; r5 = 126; r5 = 128; r5 = 130; r5 = 132; r5 = 134; r5 = 136; r5 = 138; r5 = 140; r5 = 142; r5 = 144; r5 = 146; r5 = 148; r5 = 150; r5 = 152; r5 = 154; r5 = 156; r5 = 158; r5 = 160; r5 = 162; r5 = 164; r5 = 166; r5 = 168; r5 = 170; r5 = 172; r5 = 174; r5 = 176; r5 = 178; r5 = 180; r5 = 182; r5 = 184; r5 = 186; r5 = 188; r5 = 190; r5 = 192; r5 = 194; r5 = 196; r5 = 198; r5 = 200; r5 = 202; r5 = 204; r5 = 206; r5 = 208; r5 = 210; r5 = 212; r5 = 214; r5 = 216; r5 = 218; r5 = 220; r5 = 222; r5 = 224; r5 = 226; r5 = 228; r5 = 230; r5 = 232; r5 = 234; r5 = 236; r5 = 238; r5 = 240; r5 = 242; r5 = 244; r5 = 246; r5 = 248; r5 = 250; r5 = 252; r5 = 254; r5 = 256; r5 = 258; r5 = 260; r5 = 262; r5 = 264; r5 = 266; r5 = 268; r5 = 270; r5 = 272; r5 = 274; r5 = 276; r5 = 278; r5 = 280; r5 = 282; r5 = 284; r5 = 286; r5 = 288; r5 = 290; r5 = 292; r5 = 294; r5 = 296; r5 = 298; r5 = 300; r5 = 302; r5 = 304; r5 = 306; r5 = 308; r5 = 310; r5 = 312; r5 = 314; r5 = 316; r5 = 318; r5 = 320; r5 = 322; r5 = 324; r5 = 326; r5 = 328; r5 = 330; r5 = 332; r5 = 334; r5 = 336; r5 = 338; r5 = 340; r5 = 342; r5 = 344; r5 = 346; r5 = 348; r5 = 350; r5 = 352; r5 = 354; r5 = 356; r5 = 358; r5 = 360; r5 = 362; r5 = 364; r5 = 366; r5 = 368; r5 = 370; r5 = 372; r5 = 374; r5 = 376; r5 = 378; r5 = 380; r5 = 382; r5 = 384; r5 = 386; r5 = 388; r5 = 390; r5 = 392; r5 = 394; r5 = 396; r5 = 398; r5 = 400;"
	"r0 = 0; exit;" ::: "memory");
}

/* The callback's fixpoint must converge: many constants make widening slow. */
SEC("xdp") __naked int loop_cb_dense(void)
{
	asm volatile ( // REJECT: write through r1, which is a number
	"r1 = 0; *(u64 *)(r10 - 8) = r1;"
	"r1 = 500; r2 = %[count_cb] ll; r3 = r10; r3 += -8; r4 = 0;"
	"call %[bpf_loop];"
	"r1 = *(u64 *)(r10 - 8);"
	"if r1 > 150 goto 2f;"
	"r0 = 2; exit;"
	"2: r1 = 0x41414141; *(u64 *)(r1 + 0) = r1; r0 = 2; exit;"
	:: __imm(bpf_loop), [count_cb] "i"(count_cb) : "memory");
}

/* Two elements of one hash map lie anywhere relative to each other. */
SEC("xdp") __naked int hash_two_elems(void)
{
	asm volatile ( // REJECT: write through r1, which is a number
	"r1 = 1; *(u32 *)(r10 - 4) = r1; r1 = 2; *(u32 *)(r10 - 8) = r1;"
	"r1 = %[hmap] ll; r2 = r10; r2 += -4; call %[bpf_map_lookup_elem];"
	"if r0 == 0 goto 1f; r6 = r0;"
	"r1 = %[hmap] ll; r2 = r10; r2 += -8; call %[bpf_map_lookup_elem];"
	"if r0 == 0 goto 1f;"
	"if r0 > r6 goto 2f;"
	"1: r0 = 2; exit;"
	"2: r1 = 0x41414141; *(u64 *)(r1 + 0) = r1; r0 = 2; exit;"
	:: __imm(bpf_map_lookup_elem), __imm_addr(hmap) : "memory");
}

/* Two records of one size are different objects. */
SEC("xdp") __naked int rb_two_records_eq(void)
{
	asm volatile ( // REJECT: write through r1, which is a number
	"r1 = %[rb] ll; r2 = 8; r3 = 0; call %[bpf_ringbuf_reserve];"
	"if r0 == 0 goto 9f; r7 = r0;"
	"r1 = %[rb] ll; r2 = 8; r3 = 0; call %[bpf_ringbuf_reserve];"
	"if r0 != 0 goto 1f;"
	"r1 = r7; r2 = 0; call %[bpf_ringbuf_discard]; goto 9f;"
	"1: r8 = r0;"
	"if r7 == r8 goto 3f;"
	"r1 = 0x41414141; *(u64 *)(r1 + 0) = r1;"
	"3: r1 = r7; r2 = 0; call %[bpf_ringbuf_submit];"
	"r1 = r8; r2 = 0; call %[bpf_ringbuf_submit];"
	"9: r0 = 2; exit;"
	:: __imm(bpf_ringbuf_reserve), __imm(bpf_ringbuf_submit), __imm(bpf_ringbuf_discard), __imm_addr(rb) : "memory");
}

/* Records joined through a stack slot. */
SEC("xdp") __naked int rb_join_spill(void)
{
	asm volatile ( // REJECT: already released
	"r1 = %[rb] ll; r2 = 8; r3 = 0; call %[bpf_ringbuf_reserve];"
	"if r0 == 0 goto 9f; r7 = r0;"
	"r1 = %[rb] ll; r2 = 8; r3 = 0; call %[bpf_ringbuf_reserve];"
	"if r0 != 0 goto 1f;"
	"r1 = r7; r2 = 0; call %[bpf_ringbuf_discard]; goto 9f;"
	"1: r8 = r0; *(u64 *)(r10 - 8) = r7;"
	"call %[bpf_get_prandom_u32];"
	"if r0 > 100 goto 2f;"
	"*(u64 *)(r10 - 8) = r8;"
	"2: r1 = r7; r2 = 0; call %[bpf_ringbuf_submit];"
	"r1 = r8; r2 = 0; call %[bpf_ringbuf_submit];"
	"r6 = *(u64 *)(r10 - 8); r1 = 1; *(u64 *)(r6 + 0) = r1;"
	"9: r0 = 2; exit;"
	:: __imm(bpf_ringbuf_reserve), __imm(bpf_ringbuf_submit), __imm(bpf_ringbuf_discard), __imm(bpf_get_prandom_u32), __imm_addr(rb) : "memory");
}

/* A plain load of the lock word (BTF places it at offset 8). */
SEC("xdp") __naked int lock_word_read(void)
{
	asm volatile ( // REJECT: would touch its bpf_spin_lock
	"r1 = 0; *(u32 *)(r10 - 4) = r1;"
	"r1 = %[lmap] ll; r2 = r10; r2 += -4; call %[bpf_map_lookup_elem];"
	"if r0 == 0 goto 9f;"
	"r0 = *(u32 *)(r0 + 8);"
	"9: r0 = 2; exit;"
	:: __imm(bpf_map_lookup_elem), __imm_addr(lmap) : "memory");
}

/* An atomic add to the lock word. */
SEC("xdp") __naked int lock_word_atomic(void)
{
	asm volatile ( // REJECT: would touch its bpf_spin_lock
	"r1 = 0; *(u32 *)(r10 - 4) = r1;"
	"r1 = %[lmap] ll; r2 = r10; r2 += -4; call %[bpf_map_lookup_elem];"
	"if r0 == 0 goto 9f;"
	"r1 = 1; lock *(u32 *)(r0 + 8) += r1;"
	"9: r0 = 2; exit;"
	:: __imm(bpf_map_lookup_elem), __imm_addr(lmap) : "memory");
}

/* A helper writing over the lock word. */
SEC("xdp") __naked int lock_word_helper(void)
{
	asm volatile ( // REJECT: would touch its bpf_spin_lock
	"r6 = r1; r1 = 0; *(u32 *)(r10 - 4) = r1;"
	"r1 = %[lmap] ll; r2 = r10; r2 += -4; call %[bpf_map_lookup_elem];"
	"if r0 == 0 goto 9f;"
	"r1 = r6; r2 = 0; r3 = r0; r4 = 16; call %[bpf_xdp_load_bytes];"
	"9: r0 = 2; exit;"
	:: __imm(bpf_map_lookup_elem), __imm(bpf_xdp_load_bytes), __imm_addr(lmap) : "memory");
}

/* bpf_spin_lock on a word that is not the lock. */
SEC("xdp") __naked int lock_wrong_word(void)
{
	asm volatile ( // REJECT: needs the bpf_spin_lock of map lmap's value at offset 8
	"r1 = 0; *(u32 *)(r10 - 4) = r1;"
	"r1 = %[lmap] ll; r2 = r10; r2 += -4; call %[bpf_map_lookup_elem];"
	"if r0 == 0 goto 9f; r6 = r0;"
	"r1 = r6; call %[bpf_spin_lock];"
	"r1 = r6; call %[bpf_spin_unlock];"
	"9: r0 = 2; exit;"
	:: __imm(bpf_map_lookup_elem), __imm(bpf_spin_lock), __imm(bpf_spin_unlock), __imm_addr(lmap) : "memory");
}

/* A pointer on one path, a number on the other, passed as a number. */
SEC("xdp") __naked int mixed_to_helper(void)
{
	asm volatile ( // REJECT: where a number is expected
	"r6 = r1; call %[bpf_get_prandom_u32];"
	"r1 = 3;"
	"if r0 > 7 goto 1f;"
	"r1 = r6;"
	"1: r2 = 0; call %[bpf_redirect];"
	"r0 = 2; exit;"
	:: __imm(bpf_get_prandom_u32), __imm(bpf_redirect) : "memory");
}

/* A legacy packet load ends the program when out of bounds: not while a record is held. */
SEC("socket") __naked int ldabs_holding_record(void)
{
	asm volatile ( // REJECT: would leak the ring buffer record
	"r6 = r1;"
	"r1 = %[rb] ll; r2 = 8; r3 = 0; call %[bpf_ringbuf_reserve];"
	"if r0 == 0 goto 9f; r7 = r0;"
	"r0 = *(u8 *)skb[20];"
	"r1 = r7; r2 = 0; call %[bpf_ringbuf_submit];"
	"9: r0 = 0; exit;"
	:: __imm(bpf_ringbuf_reserve), __imm(bpf_ringbuf_submit), __imm_addr(rb) : "memory");
}

__attribute__((noinline, used)) __naked static int tail_sub(void)
{
	asm volatile ( // REJECT: bpf_tail_call would leak the ring buffer record
	"r2 = %[jt] ll; r3 = 0; call %[bpf_tail_call];"
	"r0 = 0; exit;"
	:: __imm(bpf_tail_call), __imm_addr(jt) : "memory");
}

/* A tail call in a function called while the caller holds a record. */
SEC("xdp") __naked int tail_call_in_sub_holding(void)
{
	asm volatile (
	"r6 = r1;"
	"r1 = %[rb] ll; r2 = 8; r3 = 0; call %[bpf_ringbuf_reserve];"
	"if r0 == 0 goto 9f; r7 = r0;"
	"r1 = r6; call tail_sub;"
	"r1 = r7; r2 = 0; call %[bpf_ringbuf_submit];"
	"9: r0 = 2; exit;"
	:: __imm(bpf_ringbuf_reserve), __imm(bpf_ringbuf_submit), __imm_addr(rb) : "memory");
}

__attribute__((noinline, used)) __naked static int reserve_cb(void)
{
	asm volatile ( // REJECT: is still held when the bpf_loop callback returns
	"r1 = %[rb] ll; r2 = 8; r3 = 0; call %[bpf_ringbuf_reserve];"
	"r0 = 0; exit;"
	:: __imm(bpf_ringbuf_reserve), __imm_addr(rb) : "memory");
}

/* A callback may not keep what it acquires. */
SEC("xdp") __naked int cb_keeps_record(void)
{
	asm volatile ( // REJECT: neither submitted nor discarded
	"r1 = 4; r2 = %[reserve_cb] ll; r3 = 0; r4 = 0;"
	"call %[bpf_loop];"
	"r0 = 2; exit;"
	:: __imm(bpf_loop), [reserve_cb] "i"(reserve_cb) : "memory");
}

__attribute__((noinline, used)) __naked static int lock_cb(void)
{
	asm volatile ( // REJECT: callback returns while holding a bpf_spin_lock
	"r1 = 0; *(u32 *)(r10 - 4) = r1;"
	"r1 = %[lmap] ll; r2 = r10; r2 += -4; call %[bpf_map_lookup_elem];"
	"if r0 == 0 goto 9f;"
	"r0 += 8; r1 = r0; call %[bpf_spin_lock];"
	"9: r0 = 0; exit;"
	:: __imm(bpf_map_lookup_elem), __imm(bpf_spin_lock), __imm_addr(lmap) : "memory");
}

/* A callback may not keep a lock either. */
SEC("xdp") __naked int cb_keeps_lock(void)
{
	asm volatile ( // REJECT: exit while a bpf_spin_lock is held
	"r1 = 4; r2 = %[lock_cb] ll; r3 = 0; r4 = 0;"
	"call %[bpf_loop];"
	"r0 = 2; exit;"
	:: __imm(bpf_loop), [lock_cb] "i"(lock_cb) : "memory");
}

/* Unlocking another element's lock leaves the first one taken forever. */
SEC("xdp") __naked int unlock_other_elem(void)
{
	asm volatile ( // REJECT: bpf_spin_unlock of a different lock
	"r1 = 0; *(u32 *)(r10 - 4) = r1; r1 = 1; *(u32 *)(r10 - 8) = r1;"
	"r1 = %[lmap] ll; r2 = r10; r2 += -4; call %[bpf_map_lookup_elem];"
	"if r0 == 0 goto 9f; r6 = r0;"
	"r1 = %[lmap] ll; r2 = r10; r2 += -8; call %[bpf_map_lookup_elem];"
	"if r0 == 0 goto 9f; r7 = r0;"
	"r1 = r6; r1 += 8; call %[bpf_spin_lock];"
	"r1 = r7; r1 += 8; call %[bpf_spin_unlock];"
	"9: r0 = 2; exit;"
	:: __imm(bpf_map_lookup_elem), __imm(bpf_spin_lock), __imm(bpf_spin_unlock), __imm_addr(lmap) : "memory");
}

/* The right lock, taken and released: accepted. */
SEC("xdp") __naked int lock_ok(void)
{
	asm volatile (
	"r1 = 0; *(u32 *)(r10 - 4) = r1;"
	"r1 = %[lmap] ll; r2 = r10; r2 += -4; call %[bpf_map_lookup_elem];"
	"if r0 == 0 goto 9f; r6 = r0;"
	"r1 = r6; r1 += 8; call %[bpf_spin_lock];"
	"r1 = *(u64 *)(r6 + 0); r1 += 1; *(u64 *)(r6 + 0) = r1;"
	"r1 = r6; r1 += 8; call %[bpf_spin_unlock];"
	"9: r0 = 2; exit;"
	:: __imm(bpf_map_lookup_elem), __imm(bpf_spin_lock), __imm(bpf_spin_unlock), __imm_addr(lmap) : "memory");
}

/* Offsets into one element still compare: the unchecked write is dead. */
SEC("xdp") __naked int same_elem_ok(void)
{
	asm volatile (
	"r1 = 1; *(u32 *)(r10 - 4) = r1;"
	"r1 = %[hmap] ll; r2 = r10; r2 += -4; call %[bpf_map_lookup_elem];"
	"if r0 == 0 goto 1f;"
	"r7 = r0; r7 += 4;"
	"if r7 <= r0 goto 2f;"
	"1: r0 = 2; exit;"
	"2: r1 = 0x41414141; *(u64 *)(r1 + 0) = r1; r0 = 2; exit;"
	:: __imm(bpf_map_lookup_elem), __imm_addr(hmap) : "memory");
}
