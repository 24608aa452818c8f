package bpfhost

import (
	"io"

	"github.com/bpfhost/bpfhost/verifier"
)

// VerifierLimits bound the verifier's work on a program: the instructions
// it processes, the memory of its states and its time. Zero fields mean the
// defaults below.
type VerifierLimits = verifier.Limits

// The verifier's default limits (VerifierLimits's zero fields).
const (
	// DefaultVerifierMaxInstructions is Linux's complexity limit,
	// BPF_COMPLEXITY_LIMIT_INSNS.
	DefaultVerifierMaxInstructions = verifier.DefaultMaxInstructions
	// DefaultVerifierMaxStateBytes bounds the memory of the states kept at
	// once.
	DefaultVerifierMaxStateBytes = verifier.DefaultMaxStateBytes
	// DefaultVerifierTimeout bounds the verifier's wall-clock time.
	DefaultVerifierTimeout = verifier.DefaultTimeout
)

// VerifyOptions configure VerifyProgram.
type VerifyOptions struct {
	// Log, if not nil, receives the verifier's trace of every
	// instruction.
	Log io.Writer
	// Limits bound the verifier's work; the zero value means the defaults.
	Limits VerifierLimits
	// KernelBTF is the kernel BTF file that types BTF-typed programs'
	// arguments, as CollectionOptions.KernelBTF.
	KernelBTF string
	// KernelConfig is the kernel configuration file whose values fill
	// extern __kconfig variables, as CollectionOptions.KernelConfig.
	KernelConfig string
}

// VerifyProgram runs the verifier on one program of spec, as NewCollection
// does, with info as its program type (see ProgramType); nil opts means
// the defaults. A program the verifier rejects gives a *VerifierError
// listing the findings; other errors are about the input itself.
func VerifyProgram(spec *CollectionSpec, ps *ProgramSpec, info *ProgramTypeInfo, opts *VerifyOptions) error {
	if opts == nil {
		opts = &VerifyOptions{}
	}
	spec, err := withKernelConfig(spec, opts.KernelConfig)
	if err != nil {
		return err
	}
	vopts, ps, _, err := typedVerifierOptions(spec, ps, info, opts.KernelBTF)
	if err != nil {
		return err
	}
	vopts.Limits = opts.Limits
	if opts.Log != nil {
		vopts.Verbose = opts.Log
	}
	_, err = verifier.Verify(ps.Instructions, vopts)
	return err
}
