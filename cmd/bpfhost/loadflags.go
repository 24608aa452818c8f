package main

import (
	"github.com/spf13/pflag"

	"github.com/bpfhost/bpfhost"
)

// loadFlags are the flags that choose how a command loads and runs its
// program and how much of each map it prints: shared by run and attach so
// that they read (and are documented) the same.
type loadFlags struct {
	engine              bpfhost.Engine
	unverified, checked bool
	maxEntries          uint64
	kernelBTF           string
	kernelConfig        string
}

// addLoadFlags defines --engine, --unverified, --checked and --max-entries.
func addLoadFlags(fs *pflag.FlagSet, f *loadFlags) {
	engineFlag(fs, &f.engine, bpfhost.EngineDefault, " (default: jit where available)")
	fs.BoolVar(&f.unverified, "unverified", false, "skip the verifier; the program runs checked (in the interpreter unless --engine jit)")
	fs.BoolVar(&f.checked, "checked", false, "validate every memory access at run time too, on either engine")
	kernelBTFFlag(fs, &f.kernelBTF)
	kernelConfigFlag(fs, &f.kernelConfig)
	fs.Uint64Var(&f.maxEntries, "max-entries", defaultMaxEntries, "print at most this many entries of each map (0: all); the rest are counted")
}

// collectionOptions are the options the flags select, for NewCollection.
func (f *loadFlags) collectionOptions() *bpfhost.CollectionOptions {
	return &bpfhost.CollectionOptions{Engine: f.engine, Unverified: f.unverified, Checked: f.checked, KernelBTF: f.kernelBTF, KernelConfig: f.kernelConfig}
}

// kernelBTFFlag defines --kernel-btf, the kernel BTF that types the
// arguments of fentry, fexit, tp_btf, lsm and iter programs.
func kernelBTFFlag(fs *pflag.FlagSet, v *string) {
	fs.StringVar(v, "kernel-btf", "", "kernel BTF file (raw, as /sys/kernel/btf/vmlinux, or a vmlinux ELF) that types the arguments of fentry, fexit, tp_btf, lsm and iter programs (default: the running kernel's)")
}

// kernelConfigFlag defines --kernel-config, the kernel configuration whose
// values fill extern __kconfig variables (docs/decisions/0028-kconfig.md).
func kernelConfigFlag(fs *pflag.FlagSet, v *string) {
	fs.StringVar(v, "kernel-config", "", "kernel configuration file in Linux's .config format (plain or gzip, may set LINUX_KERNEL_VERSION) whose values fill extern __kconfig variables (default: the running kernel's on Linux, none elsewhere)")
}
