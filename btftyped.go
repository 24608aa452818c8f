package bpfhost

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/verifier"
	"github.com/cilium/ebpf/btf"
)

// BTF-typed programs (fentry, fexit, fmod_ret, tp_btf, lsm, iter) take the
// arguments of the kernel function or tracepoint they attach to, typed by
// the kernel's BTF: a pointer argument points to a kernel struct that the
// program may read through. Their context is built per program from the
// attach point's prototype (docs/decisions/0026-btf-pointers.md).

// btfAttachKinds maps the attach types of BTF-typed programs to how their
// attach point is resolved.
var btfAttachKinds = map[platform.AttachType]btfAttach{
	linux.AttachTraceFEntry:  btfAttachFEntry,
	linux.AttachTraceFExit:   btfAttachFExit,
	linux.AttachModifyReturn: btfAttachFModRet,
	linux.AttachTraceRawTp:   btfAttachTPBTF,
	linux.AttachLSMMac:       btfAttachLSM,
	linux.AttachLSMCGroup:    btfAttachLSM,
	linux.AttachTraceIter:    btfAttachIter,
}

// ErrTargetProgram is wrapped by the error of verifying a program that
// attaches to a function of another BPF program (freplace, and fentry or
// fexit whose section names no function of the kernel): its loader gives
// the target at load time (libbpf's bpf_program__set_attach_target, as
// libxdp does for its dispatcher and xdpdump for the XDP program it
// traces), and bpfhost verifies programs against kernel functions only.
var ErrTargetProgram = errors.New("an attach target chosen when the program is loaded (a function of another BPF program, or of the kernel) is not supported")

// btfAttachTarget returns the attach kind and target a program's section
// names ("fentry/do_unlinkat": fentry, "do_unlinkat"), when the section
// gives the program the BTF-typed type info.
func btfAttachTarget(ps *ProgramSpec, info *platform.ProgramTypeInfo) (btfAttach, string, bool) {
	kind, ok := btfAttachKinds[info.Attach]
	if !ok || (info.Type != linux.Tracing && info.Type != linux.LSM) {
		return 0, "", false
	}
	s, _, matched := linux.ABI().MatchSection(ps.Section)
	if !matched || s.Program.Type != info.Type || s.Program.Attach != info.Attach || s.Flags&platform.SectionAttachBTF == 0 {
		return 0, "", false
	}
	_, target, ok := strings.Cut(ps.Section, "/")
	if !ok || target == "" {
		return 0, "", false
	}
	return kind, target, true
}

// btfTyped returns the program, the type info to verify it with and the
// kernel types its BTF pointers point to. For a program whose section
// names a BTF attach point, the info's context is typed from the attach
// point's prototype in the kernel BTF at kernelBTF (empty: the running
// kernel's), and the program is a copy with its CO-RE relocations resolved
// against that BTF, as libbpf does for the kernel it loads into. Other
// programs come back as they are, without types. A program that needs the
// kernel BTF when none can be read is an error wrapping ErrNoKernelBTF.
func btfTyped(ps *ProgramSpec, info *platform.ProgramTypeInfo, kernelBTF string) (*ProgramSpec, *platform.ProgramTypeInfo, platform.KernelTypes, error) {
	fail := func(err error) (*ProgramSpec, *platform.ProgramTypeInfo, platform.KernelTypes, error) {
		return nil, nil, nil, fmt.Errorf("program %q (%s): %w", ps.Name, ps.Section, err)
	}
	if info.Type == linux.Extension {
		return fail(fmt.Errorf("freplace replaces a function of another BPF program: %w", ErrTargetProgram))
	}
	kind, target, ok := btfAttachTarget(ps, info)
	if !ok {
		// Other programs' CO-RE relocations are resolved against the
		// kernel BTF wherever it can be read, as libbpf resolves every
		// program's (a kprobe's bpf_core_field_exists decides which path
		// it takes; a missing field poisons its instruction), and
		// bpf_get_current_task_btf then returns a task_struct. Without a
		// kernel BTF, the values clang computed stand and that helper
		// returns a pointer that cannot be read through.
		if len(ps.CORE) == 0 && !callsHelper(ps, linux.FnGetCurrentTaskBtf) {
			return ps, info, nil, nil
		}
		k, err := loadKernelBTF(kernelBTF)
		if err != nil {
			return ps, info, nil, nil
		}
		rel, err := k.RelocateCORE(ps)
		if err != nil {
			return fail(fmt.Errorf("CO-RE relocation against the kernel BTF: %w", err))
		}
		return rel, info, k, nil
	}
	k, err := loadKernelBTF(kernelBTF)
	if err != nil {
		return fail(fmt.Errorf("its arguments are typed by the kernel's BTF: %w", err))
	}
	args, err := k.AttachArgs(kind, target)
	if err != nil && errors.Is(err, btf.ErrNotFound) && (kind == btfAttachFEntry || kind == btfAttachFExit || kind == btfAttachFModRet) {
		return fail(fmt.Errorf("%w; %w", err, ErrTargetProgram))
	}
	if err != nil {
		return fail(err)
	}
	typed := *info
	typed.Context = platform.BTFArgsContext(ps.Section, args)
	if kind == btfAttachLSM {
		if err := lsmHook(k, ps.Name, &typed, target); err != nil {
			return fail(err)
		}
	}
	if err := typed.Context.Validate(); err != nil {
		return fail(err)
	}
	rel, err := k.RelocateCORE(ps)
	if err != nil {
		return fail(fmt.Errorf("CO-RE relocation against the kernel BTF: %w", err))
	}
	return rel, &typed, k, nil
}

// typedVerifierOptions are VerifierOptions for ps with its context typed
// by kernel BTF where it attaches to a BTF-typed attach point, and the
// program and type info they verify (btfTyped).
func typedVerifierOptions(spec *CollectionSpec, ps *ProgramSpec, info *platform.ProgramTypeInfo, kernelBTF string) (verifier.Options, *ProgramSpec, *platform.ProgramTypeInfo, error) {
	rel, typed, types, err := btfTyped(ps, info, kernelBTF)
	if err != nil {
		return verifier.Options{}, nil, nil, err
	}
	vopts := VerifierOptions(spec, rel, typed)
	vopts.KernelTypes = types
	return vopts, rel, typed, nil
}

// callsHelper reports whether ps calls the helper id.
func callsHelper(ps *ProgramSpec, id platform.HelperID) bool {
	for _, ins := range ps.Instructions {
		if ins.Opcode == isa.OpCall && ins.Src == isa.CallHelper && ins.Imm == int32(id) {
			return true
		}
	}
	return false
}
