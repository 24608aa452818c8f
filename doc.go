// Package bpfhost loads eBPF objects compiled for Linux and runs their
// programs in user space, with Linux's semantics and no kernel support.
//
// The API follows cilium/ebpf's: LoadCollectionSpec parses an ELF object into
// a CollectionSpec (plain data: inspect it, change const volatile values with
// SetConstant), NewCollection creates its maps (freezing .rodata once its
// constants are written, as libbpf does, so that the verifier may read them
// as constants) and prepares its programs, and
// Program.Run executes a program the way BPF_PROG_TEST_RUN does: XDP with
// Linux's headroom, socket filters and TC classifiers with an __sk_buff, and
// bpfhost's generic type (r1 = buffer, r2 = length) for embedding. Maps are
// shared between programs and user space (Map.Lookup, Update, Iterate...),
// safely from many goroutines.
//
// Every program goes through one pipeline (DESIGN.md #7): maps are created,
// map and global-data references patched to host addresses, context accesses
// rewritten from Linux's layout to the host's (DESIGN.md #1), and the program
// compiled by an engine. Runs hold an execution slot (DESIGN.md #3) for
// per-CPU maps. The verifier runs before the rewrite; programs it accepts run
// trusted, unless CollectionOptions.Checked asks for checked mode, which
// validates every memory access (unverified programs always run checked).
package bpfhost
