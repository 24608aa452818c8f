// Package platform describes an eBPF platform's binary interface as data:
// program types, the contexts programs receive, helper prototypes and map
// types (DESIGN.md decision #6, "program types are data"). It imports only
// isa. The Linux ABI, which bpfhost uses by default, is in platform/linux.
//
// # What a program type is
//
// A ProgramTypeInfo says, for one program type (or one attach variant of it,
// such as cgroup_sock_addr/connect4):
//
//   - which ELF sections select it (Section, with libbpf's matching rules);
//   - what r1 (and, for bpfhost's own types, r2) hold at entry (Entry);
//   - the context structure r1 points to (ContextDescriptor): its Linux
//     layout, which fields may be loaded or stored with which widths, and
//     what a load yields (a scalar, a packet pointer, a socket pointer...);
//   - the return values accepted at exit (Return), the helpers it may call
//     (Helpers), whether it may read or write packet bytes directly
//     (PacketAccess) and how it is test-run (TestRun).
//
// An ABI bundles the program types with helper prototypes (HelperProto: the
// kind of each argument, the return kind, whether the helper invalidates
// packet pointers, acquires or releases references, calls a callback) and map
// types (MapTypeInfo: which operations programs may perform, what lookups
// return, which key and value sizes are allowed).
//
// # How the verifier uses it
//
// The verifier resolves the program type (ABI.Lookup by section, ABI.ByName
// for a --type flag, ABI.ByType from a spec) and starts with the registers
// EntryRegs describes. On each load or store through the context pointer it
// calls ContextDescriptor.Check, which rejects what Linux rejects and returns
// the field, whose Kind gives the loaded register's type (and Target the
// layout behind a socket or flow-keys pointer). On each helper call it checks
// that Helpers contains the ID and checks the arguments against the
// HelperProto; RetKind types r0. At exit it checks r0 against Return. It
// records the index of every instruction that accessed the context.
//
// # How the runtime uses it
//
// Linux's context layouts hold packet pointers in 32-bit fields (xdp_md.data)
// and the kernel rewrites those accesses to its own structures after
// verification. bpfhost does the same (decision #1): each hosted context has a
// HostLayout in which pointers are 64-bit, and Rewrite translates the
// verifier-reported context accesses one for one (a 4-byte load of
// xdp_md.data becomes an 8-byte load of XDPContext.Data; narrow loads of
// scalar fields move to the same bytes of the host field). The runtime then
// fills the Go structures of platform/linux (XDPContext, SKBContext, ...) in
// memory that does not move and passes their address in r1.
package platform
