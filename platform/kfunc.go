package platform

import "fmt"

// KfuncID is a runtime's number for a kernel function (kfunc). Linux
// numbers kfuncs by their BTF type ID in the running kernel; bpfhost
// numbers its own table, and the loader puts that number in the immediate
// of each kfunc call it binds by name.
type KfuncID int32

// String returns "kfunc#N"; an ABI knows the name (ABI.KfuncByID).
func (id KfuncID) String() string { return fmt.Sprintf("kfunc#%d", int32(id)) }

// KfuncProto is a kfunc's prototype as the loader binds it and the
// verifier checks it. Programs call kfuncs by name (extern __ksym
// functions); the arguments and results use the kinds of helpers, with
// the iterator kinds (ArgUninitIterNum, ArgIterNum, RetIterNumOrNull)
// that only kfuncs take.
type KfuncProto struct {
	ID   KfuncID
	Name string // "bpf_iter_num_new"
	// Args are the kinds of r1..r5; unused registers are ArgNone and come
	// after the used ones.
	Args [5]ArgKind
	Ret  RetKind
	// Release is the 1-based argument the kfunc releases (an iterator it
	// destroys), or 0.
	Release int
	// ProgramTypes are the program types that may call the kfunc; nil
	// means every program type (Linux registers such kfuncs for
	// BPF_PROG_TYPE_UNSPEC).
	ProgramTypes []ProgramType
}

// NumArgs returns how many argument registers the kfunc uses.
func (p *KfuncProto) NumArgs() int {
	n := 0
	for i, a := range p.Args {
		if a != ArgNone {
			n = i + 1
		}
	}
	return n
}

// String returns the name and number, e.g. "bpf_iter_num_new#1".
func (p *KfuncProto) String() string { return fmt.Sprintf("%s#%d", p.Name, int32(p.ID)) }

// AllowedFor reports whether programs of type t may call the kfunc.
func (p *KfuncProto) AllowedFor(t ProgramType) bool {
	if p.ProgramTypes == nil {
		return true
	}
	for _, x := range p.ProgramTypes {
		if x == t {
			return true
		}
	}
	return false
}

// Validate checks the prototype's internal consistency: a name, a
// positive ID, contiguous arguments, a released argument that exists.
// Errors wrap ErrInvalidDescriptor.
func (p *KfuncProto) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: kfunc %s: %s", ErrInvalidDescriptor, p, fmt.Sprintf(format, args...))
	}
	if p.Name == "" {
		return bad("no name")
	}
	if p.ID <= 0 {
		return bad("ID %d is not positive", p.ID)
	}
	n := p.NumArgs()
	for i := 0; i < n; i++ {
		if p.Args[i] == ArgNone {
			return bad("argument %d unused but later ones are used", i+1)
		}
	}
	if p.Release < 0 || p.Release > n {
		return bad("releases argument %d of %d", p.Release, n)
	}
	return nil
}
