package platform

import "errors"

// Sentinel errors, wrapped with context by the functions that return them and
// matched with errors.Is.
var (
	// ErrContextAccess: a load or store touches the context in a way the
	// program type does not allow (wrong field, size, alignment or direction).
	ErrContextAccess = errors.New("invalid context access")
	// ErrNotHosted: the program type has no host layout, so its context
	// accesses cannot be rewritten and bpfhost cannot run it itself.
	ErrNotHosted = errors.New("program type has no host context layout")
	// ErrRewrite: an instruction marked as a context access is not one the
	// rewriter can translate (not a load or store, atomic, out of range).
	ErrRewrite = errors.New("cannot rewrite context access")
	// ErrEntry: the entry arguments of a run break what the program type
	// promises the verifier (a NULL buffer, a buffer over its size limit).
	ErrEntry = errors.New("invalid entry arguments")
	// ErrInvalidDescriptor: a descriptor table is inconsistent.
	ErrInvalidDescriptor = errors.New("invalid platform descriptor")
)
