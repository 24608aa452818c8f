package verifier

import "github.com/bpfhost/bpfhost/platform"

// A flow dissector's __sk_buff.flow_keys points to struct bpf_flow_keys,
// which the program reads and writes to report the flow (Linux's
// PTR_TO_FLOW_KEYS): never NULL, arithmetic by constants only
// (adjust_ptr_min_max_vals; transfer.go), every access within the
// structure (check_flow_keys_access), no atomics (check_atomic; memory.go)
// and no pointer stored into it.
// memory.go checks the accesses with boundedAccess against region, the
// structure's size.

// flowKeysPointer is the value a load of a flow_keys context field gives.
func flowKeysPointer(target *platform.ContextDescriptor) value {
	return value{kind: kFlowKeys, region: int32(target.Size)}
}
