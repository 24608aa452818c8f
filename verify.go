package bpfhost

import (
	"io"

	"github.com/bpfhost/bpfhost/verifier"
)

// VerifyProgram runs the verifier on one program of spec, as NewCollection
// does, with info as its program type (see ProgramType). log, if not nil,
// receives the verifier's trace of every instruction. A program the
// verifier rejects gives a *VerifierError listing the findings; other
// errors are about the input itself.
func VerifyProgram(spec *CollectionSpec, ps *ProgramSpec, info *ProgramTypeInfo, log io.Writer) error {
	opts := VerifierOptions(spec, ps, info)
	if log != nil {
		opts.Verbose = log
	}
	_, err := verifier.Verify(ps.Instructions, opts)
	return err
}
