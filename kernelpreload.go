package bpfhost

import "github.com/bpfhost/bpfhost/platform/linux"

// PreloadKernel reads what the programs of spec need of the kernel that
// opts names (CollectionOptions.KernelBTF and KernelConfig, "" for the
// running kernel's): its BTF if a program is BTF-typed, has CO-RE
// relocations or calls bpf_get_current_task_btf, and its configuration if
// the object has a .kconfig section. They stay in the process's caches,
// so that verifying or loading spec later with the same options opens no
// file: for a process about to give up opening files (the daemon's
// verifier child, whose seccomp filter refuses open; without this, it
// verified against no kernel BTF and a configuration it could not read,
// while the daemon loaded with both, and their digests disagreed).
// Nothing fails here: a load that needs what could not be read fails as it
// would have.
func PreloadKernel(spec *CollectionSpec, opts *CollectionOptions) {
	if spec == nil {
		return
	}
	if opts == nil {
		opts = &CollectionOptions{}
	}
	for _, ms := range spec.Maps {
		if isKconfig(ms) {
			loadKernelConfig(opts.KernelConfig)
			break
		}
	}
	types := &CollectionOptions{ProgramTypes: opts.ProgramTypes, ProgramType: opts.ProgramType}
	for _, ps := range spec.Programs {
		info, _, err := ProgramType(ps, types)
		if err != nil {
			continue
		}
		_, _, typed := btfAttachTarget(ps, info)
		if typed || len(ps.CORE) > 0 || callsHelper(ps, linux.FnGetCurrentTaskBtf) {
			loadKernelBTF(opts.KernelBTF)
			return
		}
	}
}
