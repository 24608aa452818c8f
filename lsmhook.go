package bpfhost

import (
	"fmt"

	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/verifier"
	"github.com/cilium/ebpf/btf"
)

// Linux's rules for the hook an LSM program attaches to (Linux 6.12's
// kernel/bpf/bpf_lsm.c and check_return_code) that bpfhost checks: some
// hooks take no BPF programs, and an lsm_cgroup program of a void hook
// must return 1. The values Linux lets lsm programs return (0 or -errno,
// 0 or 1 for bool hooks) are not checked: bpfhost runs LSM programs
// nowhere (no hook, no test run), and its zero-extended intervals join a
// 32-bit -1 and 0 into every int where Linux keeps the int's signed
// bounds, which would refuse common programs Linux accepts
// (docs/decisions/0045-annotated-failures.md).

// lsmDisabledHooks are the hooks Linux refuses to attach BPF programs to
// (bpf_lsm_disabled_hooks): their callers read the return value as
// something other than 0 or an error, or need output a program cannot
// give. Hooks of options a kernel lacks are not in its BTF at all.
var lsmDisabledHooks = map[string]bool{
	"vm_enough_memory":    true,
	"inode_need_killpriv": true,
	"inode_getsecurity":   true,
	"inode_listsecurity":  true,
	"inode_copy_up_xattr": true,
	"getselfattr":         true,
	"getprocattr":         true,
	"setprocattr":         true,
	"key_getsecurity":     true,
	"audit_rule_match":    true,
	"xfrm_decode_session": true,
	"ismaclabel":          true,
}

// lsmHook applies Linux's rules for the LSM hook named hook to typed, the
// type info of program name, which attaches to it: a disabled hook refuses
// the program (a *VerifierError, as Linux's verifier refuses it), and an
// lsm_cgroup program of a void hook may only return 1 (it cannot change
// what the hook does).
func lsmHook(k *kernelBTF, name string, typed *platform.ProgramTypeInfo, hook string) error {
	if lsmDisabledHooks[hook] {
		return &VerifierError{Program: name, Errors: []verifier.Error{{PC: -1,
			Message: fmt.Sprintf("LSM hook %s takes no BPF programs (Linux's bpf_lsm_disabled_hooks)", hook)}}}
	}
	if typed.Attach != linux.AttachLSMCGroup {
		return nil
	}
	void, err := k.returnsVoid("bpf_lsm_" + hook)
	if err != nil {
		return err
	}
	if void {
		typed.Return = &platform.Range{Min: 1, Max: 1}
	}
	return nil
}

// returnsVoid reports whether the kernel function name returns nothing.
func (k *kernelBTF) returnsVoid(name string) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	proto, err := k.funcProto(name)
	if err != nil {
		return false, err
	}
	return proto.Return == nil || isVoid(btf.UnderlyingType(proto.Return)), nil
}
