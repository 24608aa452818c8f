// Package isa models the eBPF instruction set of RFC 9669, including ISA v4
// (signed division, sign-extending moves and loads, byte swaps, 32-bit jump
// offsets), every atomic operation, every lddw source form, helper, local and
// kfunc calls, callx and the legacy packet loads.
//
// A program is a slice of Instruction, one per 8-byte slot, so that indices
// are the slot numbers that jump offsets and BTF line info use. Decode and
// Encode convert to and from bytecode; Validate checks a program's form
// (opcodes, unused fields, registers, jump targets, function ends) and names
// the instruction and field of the first problem. Assemble and Disassemble
// read and print the bpf_conformance suite's text dialect; LLVM's syntax is
// printed by the disassembler the CLI uses.
package isa
