// Package object reads clang-compiled eBPF ELF objects into a Spec: plain
// data that the runtime turns into maps and programs. It is the only package
// of bpfhost that imports cilium/ebpf, whose ELF reader it uses as a parser
// only; nothing here talks to a kernel.
//
// # Flow
//
// Load (a path), LoadReader (an io.ReaderAt) and FromCollectionSpec (a
// cilium/ebpf CollectionSpec, as bpf2go embeds one) all end in the same
// conversion:
//
//   - Maps: BTF-defined maps (.maps) and legacy struct bpf_map_def maps
//     ("maps") become MapSpecs with Linux type numbers, sizes, flags, pinning,
//     an inner map template for map-in-maps and static initialisers (Contents:
//     the program name per index of a prog array, the map name per slot of a
//     map-in-map). Each global data section (.data, .rodata, .bss and their
//     .data.*, .rodata.* variants, and the virtual .kconfig) becomes a
//     single-entry array map named after the section, whose Data holds the
//     initial bytes; read-only sections carry FlagReadOnlyProg.
//     Spec.Maps is sorted by name.
//   - Variables: global variables with their section, offset, size and C
//     type. SetConstant rewrites a const volatile's initial bytes in its
//     .rodata map; SetVariable does the same for any global.
//   - Programs: every function of a non-.text section is a program. Its
//     Instructions are isa slots (an lddw takes two): the entry function at
//     slot 0, then every function it calls (from .text or its own section),
//     with local calls (src 1) and function addresses (lddw src 4) already
//     pointing at them. Functions says where each function starts, Lines
//     gives each slot its source file, line, column and text from BTF line
//     info, and References lists every slot that names something outside the
//     program.
//
// # Relocation convention
//
// The runtime finishes what the object leaves open by patching the slots
// that References lists:
//
//   - RefMap: lddw with Src isa.PseudoMapIdx; Imm is the map's index in
//     Spec.Maps, the second slot's Imm is 0.
//   - RefMapValue: lddw with Src isa.PseudoMapIdxValue; Imm is the map's
//     index in Spec.Maps and the second slot's Imm the byte offset into its
//     value. Global data accesses are of this kind (the map is the section's,
//     the offset the variable's plus any constant offset).
//   - RefKfunc: call with Src isa.CallKfunc and Imm 0; Name is the kernel
//     function to bind (Weak: declared __weak, so a runtime that lacks it
//     may leave the call unbound).
//   - RefKsym: lddw with Src isa.PseudoBTFID and Imm 0 in both slots; Name
//     is the __ksym variable to bind.
//
// A program with these forms passes isa.Validate as it is, so the verifier
// and disassembler can read it before the runtime has created any map.
//
// # CO-RE
//
// Instructions with CO-RE relocations hold the values clang computed for the
// object's own types, and ProgramSpec.CORE lists them until RelocateCORE
// resolves them against a target's BTF (LoadTargetBTF reads one, raw or from
// an ELF file). Relocation is a step of its own rather than a load option so
// that the runtime, which knows the target (its own context types, or a
// kernel's), can run it on a Spec it did not load itself. Field byte offsets (on loads, stores and address arithmetic,
// with the load width adjusted for unsigned integers and pointers that
// changed size), field sizes, existence and signedness, bitfield shifts, type
// existence, size and target id, and enumerator existence and value are
// resolved; type-match relocations are not. A relocation whose type or field the
// target lacks poisons its instruction as libbpf does (a call of
// COREPoison), so that code guarded by bpf_core_field_exists still loads and
// the verifier refuses the access where it can run; any other relocation
// that cannot be resolved is an error (a COREError naming program,
// instruction, kind and access), never a guessed value.
//
// # Older toolchains
//
// Before cilium/ebpf's reader sees an object, the loader rewrites its copy
// of the file the way libbpf and iproute2 read old objects: map symbols of
// size 0 divide their legacy "maps" section evenly; function symbols
// without STT_FUNC or size reach to the next function; code without any
// symbol becomes a program named after its section; SHT_RELA relocations
// with zero addends become SHT_REL; typedefs and qualifiers in BTF map
// definitions are resolved. Definition fields past libbpf's five are read
// as samples/bpf's (inner_map_idx, numa_node) in sections with map-in-maps
// or NUMA flags, else as iproute2's struct bpf_elf_map (ID, ElfPinning,
// InnerID, InnerIndex); iproute2's tail-call sections "N/M" become Contents
// of the prog array whose ID is N. Any other non-zero byte is an error.
//
// # Bounded cost
//
// Objects may come from anyone: every size read from the file is checked
// before anything of that size is allocated or decompressed
// (SHF_COMPRESSED sections by the size their header claims). The limits
// follow Linux where it has one: 4 MiB per global data section
// (KMALLOC_MAX_SIZE), 16 MiB of BTF (BTF_MAX_SIZE), one million linked
// instructions per program (BPF_MAXINSNS) and four million per object,
// with bounds on sections, symbols, names and relocations (elfscan.go).
// BTF is walked without recursion first: cilium/ebpf's parser recurses
// once per type on a chain of references, so chains (each reference
// cycle counted once) longer than 16384 types are refused instead of
// overflowing the Go stack.
//
// Objects must be little-endian; malformed objects give errors wrapping
// ErrInvalidObject and never panic.
package object
