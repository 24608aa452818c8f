package bpfhost

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/verifier"
)

// VerifiedProgram is the verifier's verdict on one program, reached
// elsewhere (the daemon's isolated verifier process, DESIGN.md decision 9)
// and handed to NewCollection in CollectionOptions.Verified so that the
// program is not verified a second time. It holds the facts NewCollection
// takes from the verifier (docs/decisions/0016-program-facts.md), tied to
// the exact program and options they were computed for by Digest.
//
// The digest binds a verdict to its input; it is not a signature: whoever
// supplies VerifiedPrograms is trusted as the verifier is.
type VerifiedProgram struct {
	// Digest is ProgramDigest of the program and options verified.
	Digest []byte `json:"digest"`
	// Facts is what the verifier returned for the program.
	Facts verifier.Result `json:"facts"`
}

// ErrVerifiedMismatch is wrapped by the error of NewCollection when a
// CollectionOptions.Verified entry does not belong to the program it names:
// its digest or the shape of its facts do not match the program's
// instructions and verification options.
var ErrVerifiedMismatch = errors.New("verified result does not match the program")

// ProgramDigest returns the SHA-256 digest of what verifying program ps of
// spec as a program of type info with limits depends on: its instructions,
// its type, the maps it may name (verifier.MapInfo of every map of spec)
// and the instruction and memory limits (zero meaning the defaults; time
// limits are left out).
func ProgramDigest(spec *CollectionSpec, ps *ProgramSpec, info *ProgramTypeInfo, limits VerifierLimits) []byte {
	h := sha256.New()
	field := func(b []byte) {
		h.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(b))))
		h.Write(b)
	}
	field([]byte("bpfhost verified program v1"))
	field([]byte(ps.Name))
	field([]byte(info.Name))
	field([]byte(info.Variant))
	field([]byte(info.AttachName))
	field(binary.LittleEndian.AppendUint64(nil, uint64(info.Type)))
	field(binary.LittleEndian.AppendUint64(nil, uint64(info.Attach)))
	field(isa.Encode(ps.Instructions))
	if c := info.Context; c != nil {
		// The kernel types of a BTF-typed program's arguments.
		for _, f := range c.Fields {
			if f.Kind == platform.FieldBTFPointer && f.BTF.Type != 0 {
				field([]byte(fmt.Sprintf("%s@%d:%d/%v", f.Name, f.Offset, f.BTF.Type, f.BTF.MaybeNull)))
			}
		}
	}
	infos := make([]verifier.MapInfo, len(spec.Maps))
	for i, ms := range spec.Maps {
		infos[i] = mapInfo(ms)
	}
	mi, err := json.Marshal(infos)
	if err != nil {
		// MapInfo is plain data; this cannot fail, but a digest must
		// never match by accident.
		panic(fmt.Sprintf("bpfhost: encoding map infos: %v", err))
	}
	field(mi)
	maxInsns, maxBytes := int64(limits.MaxInstructions), limits.MaxStateBytes
	if maxInsns == 0 {
		maxInsns = verifier.DefaultMaxInstructions
	}
	if maxBytes == 0 {
		maxBytes = verifier.DefaultMaxStateBytes
	}
	field(binary.LittleEndian.AppendUint64(nil, uint64(maxInsns)))
	field(binary.LittleEndian.AppendUint64(nil, uint64(maxBytes)))
	return h.Sum(nil)
}

// VerifyCollection verifies the programs NewCollection(spec, opts) would
// load (opts.Programs and the programs their program arrays reach), with
// the same program types and limits, and returns their verdicts by program
// name, for CollectionOptions.Verified. A program the verifier rejects
// gives a *VerifierError, as NewCollection does. Unverified options are an
// error: there is nothing to verify.
func VerifyCollection(spec *CollectionSpec, opts *CollectionOptions) (map[string]*VerifiedProgram, error) {
	if spec == nil {
		return nil, fmt.Errorf("%w: nil CollectionSpec", ErrInvalid)
	}
	if opts == nil {
		opts = &CollectionOptions{}
	}
	if opts.Unverified {
		return nil, fmt.Errorf("%w: VerifyCollection with Unverified options", ErrInvalid)
	}
	if err := checkTypeOptions(spec, opts); err != nil {
		return nil, fmt.Errorf("program types: %w", err)
	}
	spec, err := withKernelConfig(spec, opts.KernelConfig)
	if err != nil {
		return nil, err
	}
	selected, err := selectPrograms(spec, opts.Programs)
	if err != nil {
		return nil, err
	}
	limits := collectionLimits(opts.VerifierLimits)
	types := &CollectionOptions{ProgramTypes: opts.ProgramTypes, ProgramType: opts.ProgramType}
	kernelBTF := opts.KernelBTF
	out := make(map[string]*VerifiedProgram, len(selected))
	for _, ps := range selected {
		info, _, err := ProgramType(ps, types)
		if err != nil {
			return nil, err
		}
		vopts, rel, typed, err := typedVerifierOptions(spec, ps, info, kernelBTF)
		if err != nil {
			return nil, err
		}
		ps, info = rel, typed
		vopts.Limits = limits
		res, err := verifier.Verify(ps.Instructions, vopts)
		if err != nil {
			return nil, err
		}
		out[ps.Name] = &VerifiedProgram{Digest: ProgramDigest(spec, ps, info, opts.VerifierLimits), Facts: *res}
	}
	return out, nil
}

// verifiedFacts returns the facts of v for program ps if v was computed for
// exactly this program and these options.
func verifiedFacts(v *VerifiedProgram, spec *CollectionSpec, ps *ProgramSpec, info *ProgramTypeInfo, limits VerifierLimits) (*verifier.Result, error) {
	want := ProgramDigest(spec, ps, info, limits)
	if string(v.Digest) != string(want) {
		return nil, fmt.Errorf("program %q: digest %x, the program's is %x: %w", ps.Name, v.Digest, want, ErrVerifiedMismatch)
	}
	n := len(ps.Instructions)
	f := v.Facts
	if len(f.MapArgs) != n {
		return nil, fmt.Errorf("program %q: map arguments for %d slots, the program has %d: %w", ps.Name, len(f.MapArgs), n, ErrVerifiedMismatch)
	}
	for pc, i := range f.MapArgs {
		if i < -1 || i >= len(spec.Maps) {
			return nil, fmt.Errorf("program %q: slot %d: map argument %d out of range: %w", ps.Name, pc, i, ErrVerifiedMismatch)
		}
	}
	for k, pc := range f.ContextAccesses {
		if pc < 0 || pc >= n || (k > 0 && pc <= f.ContextAccesses[k-1]) {
			return nil, fmt.Errorf("program %q: context access at slot %d out of range or order: %w", ps.Name, pc, ErrVerifiedMismatch)
		}
	}
	return &f, nil
}
