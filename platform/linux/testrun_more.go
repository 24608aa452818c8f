package linux

import (
	"encoding/binary"
	"fmt"
)

// Test-run rules of the program types whose input is not a packet
// (raw_tracepoint, syscall, sk_lookup) and of the flow dissector, whose
// context is not what the caller passes (net/bpf/test_run.c:
// bpf_prog_test_run_raw_tp, _syscall, _sk_lookup, _flow_dissector).

// Sizes of the test-run contexts.
const (
	// FlowKeysSize is sizeof(struct bpf_flow_keys): a flow dissector's
	// ctx_in, ctx_out and data_out.
	FlowKeysSize = 56
	// SKLookupContextSize is sizeof(struct bpf_sk_lookup).
	SKLookupContextSize = 72
	// RawTracepointContextMax is the largest raw_tracepoint ctx_in
	// (MAX_BPF_FUNC_ARGS u64 arguments).
	RawTracepointContextMax = 8 * maxFuncArgs
	// SyscallContextMax is the largest syscall program ctx_in (U16_MAX).
	SyscallContextMax = syscallCtxMax
)

// struct bpf_flow_keys offsets the test run reads and writes.
const (
	flowKeysNhoff  = 0
	flowKeysThoff  = 2
	flowKeysNProto = 10
	flowKeysFlags  = 48
)

// FlowDissectorTestRunFlags checks a flow dissector's ctx_in, a struct
// bpf_flow_keys of FlowKeysSize bytes, and returns its flags: every other
// field must be zero (verify_user_bpf_flow_keys).
func FlowDissectorTestRunFlags(in []byte) (uint32, error) {
	if len(in) != FlowKeysSize {
		return 0, fmt.Errorf("%w: bpf_flow_keys of %d bytes, want %d", ErrTestRunContext, len(in), FlowKeysSize)
	}
	for off, b := range in {
		if b != 0 && (off < flowKeysFlags || off >= flowKeysFlags+4) {
			return 0, fmt.Errorf("%w: bpf_flow_keys: only flags (offset %d) can be set for a test run, offset %d is not zero", ErrTestRunContext, flowKeysFlags, off)
		}
	}
	return binary.NativeEndian.Uint32(in[flowKeysFlags:]), nil
}

// FlowDissectorStart fills keys (FlowKeysSize bytes) as bpf_flow_dissect
// does before it runs a program on a frame: zeroed, then the Ethertype
// (as in the frame, network order), the network header offset and the
// transport header offset (both nhoff) and the caller's flags.
func FlowDissectorStart(keys []byte, ethertype [2]byte, nhoff int, flags uint32) {
	clear(keys[:FlowKeysSize])
	copy(keys[flowKeysNProto:], ethertype[:])
	binary.NativeEndian.PutUint16(keys[flowKeysNhoff:], uint16(nhoff))
	binary.NativeEndian.PutUint16(keys[flowKeysThoff:], uint16(nhoff))
	binary.NativeEndian.PutUint32(keys[flowKeysFlags:], flags)
}

// FlowDissectorFinish clamps what the program left as bpf_flow_dissect
// does: nhoff into [nhoff, hlen], thoff into [the clamped nhoff, hlen].
func FlowDissectorFinish(keys []byte, nhoff, hlen int) {
	clamp := func(v, lo, hi uint16) uint16 { return min(max(v, lo), hi) }
	nh := clamp(binary.NativeEndian.Uint16(keys[flowKeysNhoff:]), uint16(nhoff), uint16(hlen))
	th := clamp(binary.NativeEndian.Uint16(keys[flowKeysThoff:]), nh, uint16(hlen))
	binary.NativeEndian.PutUint16(keys[flowKeysNhoff:], nh)
	binary.NativeEndian.PutUint16(keys[flowKeysThoff:], th)
}

// Address families of struct bpf_sk_lookup.
const (
	afInet  = 2
	afInet6 = 10
)

// ErrTestRunFamily is returned for a bpf_sk_lookup whose family is neither
// AF_INET nor AF_INET6 (the kernel's EAFNOSUPPORT).
var ErrTestRunFamily = fmt.Errorf("%w: address family not supported", ErrTestRunContext)

// SKLookupTestRunContext turns a caller's struct bpf_sk_lookup (ctx_in,
// SKLookupContextSize bytes) into what the program reads, as Linux's test
// run builds its bpf_sk_lookup_kern: sk (the cookie) must be 0 and nothing
// may be set after local_port; family and protocol are truncated to 16
// bits; local_port must fit 16 bits (ERANGE); remote_port's padding reads
// as zero; the addresses of the other family read as zero; ingress_ifindex
// is 0 and no socket is selected yet (sk NULL).
func SKLookupTestRunContext(in []byte) ([]byte, error) {
	if len(in) != SKLookupContextSize {
		return nil, fmt.Errorf("%w: bpf_sk_lookup of %d bytes, want %d", ErrTestRunContext, len(in), SKLookupContextSize)
	}
	d := skLookup
	off := func(name string) int {
		f, ok := d.FieldByName(name)
		if !ok {
			panic("linux: no field " + name + " in bpf_sk_lookup")
		}
		return f.Offset
	}
	if binary.NativeEndian.Uint64(in[off("sk"):]) != 0 {
		return nil, fmt.Errorf("%w: bpf_sk_lookup: sk (cookie) must be 0 for a test run", ErrTestRunContext)
	}
	endPort := off("local_port") + 4
	for i := endPort; i < len(in); i++ {
		if in[i] != 0 {
			return nil, fmt.Errorf("%w: bpf_sk_lookup: nothing after local_port can be set for a test run (offset %d is not zero)", ErrTestRunContext, i)
		}
	}
	if port := binary.NativeEndian.Uint32(in[off("local_port"):]); port > 0xffff {
		return nil, fmt.Errorf("%w: bpf_sk_lookup local_port %d: at most 65535 (the kernel's ERANGE)", ErrTestRunContext, port)
	}
	ctx := make([]byte, SKLookupContextSize)
	copy(ctx, in)
	for _, name := range []string{"family", "protocol"} {
		o := off(name)
		binary.NativeEndian.PutUint32(ctx[o:], uint32(binary.NativeEndian.Uint16(in[o:])))
	}
	clear(ctx[off("remote_port_pad"):][:2])
	switch binary.NativeEndian.Uint32(ctx[off("family"):]) {
	case afInet:
		clear(ctx[off("remote_ip6"):][:16])
		clear(ctx[off("local_ip6"):][:16])
	case afInet6:
		clear(ctx[off("remote_ip4"):][:4])
		clear(ctx[off("local_ip4"):][:4])
	default:
		return nil, fmt.Errorf("%w: bpf_sk_lookup family %d: want AF_INET (2) or AF_INET6 (10) (the kernel's EAFNOSUPPORT)", ErrTestRunFamily, binary.NativeEndian.Uint16(in[off("family"):]))
	}
	return ctx, nil
}

// SKLookupTestRunContextOut returns the bpf_sk_lookup Linux's test run
// reports back: the caller's ctx_in with the cookie of the socket the
// program selected (0: none).
func SKLookupTestRunContextOut(in []byte, cookie uint64) []byte {
	out := make([]byte, SKLookupContextSize)
	copy(out, in)
	binary.NativeEndian.PutUint64(out, cookie)
	return out
}
