package linux

import "github.com/bpfhost/bpfhost/platform"

// cgroupDev is struct bpf_cgroup_dev_ctx (cgroup_dev_is_valid_access):
// read-only; access_type allows narrow loads.
var cgroupDev = &platform.ContextDescriptor{
	Name: "bpf_cgroup_dev_ctx", CType: "struct bpf_cgroup_dev_ctx", Size: 12,
	Fields: []platform.ContextField{
		ro("access_type", 0, 4, n32),
		ro("major", 4, 4, s4),
		ro("minor", 8, 4, s4),
	},
	Doc: "linux/bpf.h struct bpf_cgroup_dev_ctx; access_type is (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_*",
}

// sysctlCtx is struct bpf_sysctl (sysctl_is_valid_access): write is
// read-only, file_pos may be read narrowly and written whole.
var sysctlCtx = &platform.ContextDescriptor{
	Name: "bpf_sysctl", CType: "struct bpf_sysctl", Size: 8,
	Fields: []platform.ContextField{
		ro("write", 0, 4, n32),
		field("file_pos", 4, 4, n32, s4),
	},
	Doc: "linux/bpf.h struct bpf_sysctl",
}
