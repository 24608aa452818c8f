package platform

import (
	"fmt"
	"strings"
)

// ProgramType is a program type number in an ABI's numbering; in the Linux
// ABI it is enum bpf_prog_type. bpfhost's own types (no Linux equivalent)
// have bit 16 set.
type ProgramType uint32

// HostProgramTypeBase is the first number of bpfhost's own program types,
// above every Linux type.
const HostProgramTypeBase ProgramType = 1 << 16

// String returns "prog_type#N"; an ABI knows the name (ABI.ProgramTypeName).
func (t ProgramType) String() string { return fmt.Sprintf("prog_type#%d", uint32(t)) }

// AttachType is an expected attach type (enum bpf_attach_type in Linux).
type AttachType uint32

// String returns "attach_type#N".
func (t AttachType) String() string { return fmt.Sprintf("attach_type#%d", uint32(t)) }

// Range is an inclusive range of return values.
type Range struct{ Min, Max int64 }

// Contains reports whether v lies in the range.
func (r Range) Contains(v int64) bool { return r.Min <= v && v <= r.Max }

// String returns "[min, max]".
func (r Range) String() string { return fmt.Sprintf("[%d, %d]", r.Min, r.Max) }

// RegKind says what a register holds at program entry.
type RegKind uint8

// Entry register kinds.
const (
	// RegContext: a pointer to the context (ProgramTypeInfo.Context).
	RegContext RegKind = iota + 1
	// RegPacketData: a pointer to the first byte of a packet buffer. It
	// is never NULL, even for an empty buffer (the verifier treats the
	// register as a non-NULL packet pointer; EntryArgs refuses 0).
	RegPacketData
	// RegPacketLength: the length of that buffer, a scalar; the buffer's
	// end is RegPacketData plus this. It is at most the type's
	// PacketSizeLimit.
	RegPacketLength
)

var regKindNames = [...]string{RegContext: "context", RegPacketData: "packet", RegPacketLength: "packet_length"}

// String returns the kind's name.
func (k RegKind) String() string {
	if k > 0 && int(k) < len(regKindNames) {
		return regKindNames[k]
	}
	return fmt.Sprintf("reg_kind(%d)", uint8(k))
}

// TestRunKind says what Linux's BPF_PROG_TEST_RUN (and bpfhost's test run)
// feeds a program type.
type TestRunKind uint8

// Test run kinds.
const (
	// TestRunNone: the type cannot be test-run.
	TestRunNone TestRunKind = iota
	// TestRunSKB: data_in is an Ethernet frame wrapped in an sk_buff;
	// ctx_in may set some __sk_buff fields.
	TestRunSKB
	// TestRunXDP: data_in is an Ethernet frame; ctx_in is an xdp_md.
	TestRunXDP
	// TestRunFlowDissector: data_in is an Ethernet frame; the result is
	// struct bpf_flow_keys.
	TestRunFlowDissector
	// TestRunRawTracepoint: ctx_in holds the u64 arguments.
	TestRunRawTracepoint
	// TestRunTracing: no input; the kernel calls the traced function.
	TestRunTracing
	// TestRunSKLookup: ctx_in is a struct bpf_sk_lookup.
	TestRunSKLookup
	// TestRunSyscall: ctx_in is the program's own context buffer.
	TestRunSyscall
	// TestRunNetfilter: data_in is an IP packet; ctx_in names the hook.
	TestRunNetfilter
	// TestRunBuffer: bpfhost's generic type; data_in is the buffer.
	TestRunBuffer
)

var testRunNames = [...]string{"none", "skb", "xdp", "flow_dissector", "raw_tracepoint", "tracing", "sk_lookup", "syscall", "netfilter", "buffer"}

// String returns the kind's name.
func (k TestRunKind) String() string {
	if int(k) < len(testRunNames) {
		return testRunNames[k]
	}
	return fmt.Sprintf("test_run(%d)", uint8(k))
}

// ProgramTypeInfo describes a program type, or one variant of it when the
// expected attach type changes what programs may do (cgroup_sock_addr's
// connect4 and recvmsg4 differ in context fields and return values). The
// verifier, the rewriter, the test-run path and the hooks all read it.
type ProgramTypeInfo struct {
	Type ProgramType
	// Name is the type's name as libbpf and bpftool print it ("xdp",
	// "sched_cls", "cgroup_sock_addr").
	Name string
	// Attach is the expected attach type to load the program with, and
	// AttachName its name; AttachName is empty when the type takes none
	// (Attach is then 0, which is also what Linux expects).
	Attach     AttachType
	AttachName string
	// Variant names this variant when a type has several ("connect4");
	// empty for the type's default.
	Variant string
	// Sections are the ELF section patterns that select this variant,
	// in libbpf syntax ("xdp", "kprobe+", "tc/ingress"); see Section.
	Sections []string
	// Context describes what r1 points to at entry; nil when r1 is not a
	// context pointer (see Entry).
	Context *ContextDescriptor
	// Entry says what r1, r2, ... hold at entry. Nil means the Linux
	// convention: r1 is the context pointer and nothing else is set.
	Entry []RegKind
	// Return is the range r0 must lie in at exit, or nil when any
	// initialized scalar is accepted.
	Return *Range
	// Helpers is the set of helpers programs of this variant may call.
	Helpers HelperSet
	// Protos are prototypes that replace the ABI's for this variant,
	// where Linux's func_proto hands the type a variant of a helper
	// (cgroup_sock's bpf_sk_storage_get takes the context as its socket).
	// Nil for most types; see HelperProto.
	Protos map[HelperID]*HelperProto
	// PacketAccess says whether programs may load (Read) and store (Write)
	// packet bytes directly through packet pointers.
	PacketAccess Access
	// TestRun says how the type is test-run.
	TestRun TestRunKind
	// MaxPacketSize is the most bytes a packet of this type holds; 0 means
	// MaxPacketSize (Linux's MAX_PACKET_OFF). See PacketSizeLimit.
	MaxPacketSize uint32
	// NoLockMaps and NoTimerMaps say Linux refuses a program of this type
	// that uses a map whose value holds a struct bpf_spin_lock (socket
	// filters, tracing programs), or a struct bpf_timer (tracing
	// programs: kprobe, tracepoint, perf_event, raw_tracepoint), as its
	// check_map_prog_compatibility does.
	NoLockMaps, NoTimerMaps bool
	// Doc notes what is approximate or unusual.
	Doc string
}

// HelperProto returns the prototype of helper id for programs of this
// variant: its own (Protos) or abi's.
func (p *ProgramTypeInfo) HelperProto(abi *ABI, id HelperID) (*HelperProto, bool) {
	if h, ok := p.Protos[id]; ok {
		return h, true
	}
	return abi.HelperByID(id)
}

// String returns the name and variant, e.g. "cgroup_sock_addr/connect4".
func (p *ProgramTypeInfo) String() string {
	if p.Variant == "" {
		return p.Name
	}
	return p.Name + "/" + p.Variant
}

// Hosted reports whether bpfhost can run the type itself: its context has a
// host layout, or it takes no context at all.
func (p *ProgramTypeInfo) Hosted() bool {
	if p.Context == nil {
		return len(p.Entry) > 0
	}
	return p.Context.Host != nil
}

// MaxPacketSize is the largest packet a program sees unless its type says
// less: Linux's MAX_PACKET_OFF, which bounds the packet offsets the verifier
// reasons about.
const MaxPacketSize = 0xffff

// MaxMetaSize is the most metadata bytes in front of a packet's data
// (data - data_meta) that a program sees. The verifier assumes it, so
// every run time must refuse a packet with more before it runs a program:
// XDP test runs take at most 216 (Linux's headroom less its xdp_frame),
// bpf_xdp_adjust_meta makes at most 32, Program.RunXDPBatch checks its
// callers' frames.
const MaxMetaSize = 255

// PacketSizeLimit returns the most bytes a packet of this type holds. The
// verifier assumes it of the packet size (and of a RegPacketLength entry
// register), so every run time (test runs, hooks) must refuse larger
// packets before it runs a program of the type: EntryArgs does.
func (p *ProgramTypeInfo) PacketSizeLimit() uint64 {
	if p.MaxPacketSize != 0 {
		return uint64(p.MaxPacketSize)
	}
	return MaxPacketSize
}

// EntryArgs returns r1..r5 for a run of a type whose entry registers are
// a packet buffer (Entry with RegPacketData, RegPacketLength): addr is the
// buffer's first byte and n its length. It refuses what the verifier
// assumed impossible: a NULL buffer (pass the address of an empty buffer's
// memory) or more than PacketSizeLimit bytes, and entry registers it cannot
// fill (a context).
func (p *ProgramTypeInfo) EntryArgs(addr uint64, n int) ([5]uint64, error) {
	var args [5]uint64
	if n < 0 || uint64(n) > p.PacketSizeLimit() {
		return args, fmt.Errorf("%w: %s: a buffer of %d bytes, at most %d", ErrEntry, p, n, p.PacketSizeLimit())
	}
	for i, k := range p.EntryRegs() {
		switch k {
		case RegPacketData:
			if addr == 0 {
				return args, fmt.Errorf("%w: %s: NULL buffer", ErrEntry, p)
			}
			args[i] = addr
		case RegPacketLength:
			args[i] = uint64(n)
		default:
			return args, fmt.Errorf("%w: %s: r%d holds a %s, not a buffer", ErrEntry, p, i+1, k)
		}
	}
	return args, nil
}

// EntryRegs returns what r1..r5 hold at entry, applying the default.
func (p *ProgramTypeInfo) EntryRegs() []RegKind {
	if p.Entry != nil {
		return p.Entry
	}
	return []RegKind{RegContext}
}

// SectionFlags are load-time properties that a section name implies.
type SectionFlags uint8

// Section flags.
const (
	// SectionSleepable: load with BPF_F_SLEEPABLE ("fentry.s/...").
	SectionSleepable SectionFlags = 1 << iota
	// SectionXDPFrags: load with BPF_F_XDP_HAS_FRAGS ("xdp.frags").
	SectionXDPFrags
	// SectionAttachBTF: the part after '/' names a BTF attach target.
	SectionAttachBTF
)

// Section maps an ELF section pattern to a program type variant. Patterns
// follow libbpf: "name" matches exactly; "name+" matches "name" or
// "name/anything"; "name/" matches any name starting with it.
type Section struct {
	Pattern string
	Program *ProgramTypeInfo
	Flags   SectionFlags
	// Prefix marks the patterns that libbpf before 1.0 also matched as a
	// plain prefix of the section name ("xdp_ttl" -> "xdp", "socket1" ->
	// "socket"; libbpf's SEC_SLOPPY_PFX). Objects built for those loaders
	// still use such names.
	Prefix bool
}

// Matches reports whether the section name matches the pattern under
// libbpf's rules.
func (s *Section) Matches(name string) bool {
	p := s.Pattern
	switch {
	case strings.HasSuffix(p, "/"):
		return strings.HasPrefix(name, p)
	case strings.HasSuffix(p, "+"):
		base := p[:len(p)-1]
		return name == base || strings.HasPrefix(name, base+"/")
	}
	return name == p
}

// legacyMatches reports whether the pattern is a Prefix pattern and a prefix
// of name, the looser rule libbpf applied before version 1.0 ("xdp_prog",
// "socket1").
func (s *Section) legacyMatches(name string) bool {
	base := strings.TrimSuffix(s.Pattern, "+")
	return s.Prefix && base != "" && strings.HasPrefix(name, base)
}
