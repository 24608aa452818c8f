package bpfhost

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// TypeSource says where a program's type came from.
type TypeSource string

// Where a program type can come from, in the order they are tried.
const (
	// TypeFromOption: CollectionOptions.ProgramTypes named the program, or
	// CollectionOptions.ProgramType gave one type for the whole object
	// (--type PROGRAM=TYPE and --type TYPE on the command line).
	TypeFromOption TypeSource = "option"
	// TypeFromSection: the section name, under libbpf's current rules
	// ("xdp", "kprobe/do_unlinkat", "cgroup/connect4").
	TypeFromSection TypeSource = "section"
	// TypeFromPrefix: the section name begins with a name that libbpf
	// before 1.0 matched as a prefix ("xdp_ttl" is xdp, "socket1" a socket
	// filter).
	TypeFromPrefix TypeSource = "section prefix"
)

// ErrNoProgramType is wrapped by the error for a program whose type neither
// the options nor its section name give (see NoProgramTypeError).
var ErrNoProgramType = errors.New("no program type")

// NoProgramTypeError is a program whose section is named by its loader, not
// by libbpf's conventions ("classifier/ingress" is fine, "2/1",
// "from-netdev", "filter" or "tail-3" are not): tc, ip and iproute2 give
// such programs the type they are loaded as. Choose one with
// CollectionOptions.ProgramType or ProgramTypes.
type NoProgramTypeError struct {
	Program string
	Section string
}

func (e *NoProgramTypeError) Error() string {
	if e.Section == TextSection {
		return fmt.Sprintf("program %q: a function in %s has no program type of its own; choose one", e.Program, e.Section)
	}
	return fmt.Sprintf("program %q: section %q names no program type: the loader that uses it decides (tc: sched_cls, ip link: xdp, a socket: socket_filter); choose one", e.Program, e.Section)
}

// Unwrap returns ErrNoProgramType.
func (e *NoProgramTypeError) Unwrap() error { return ErrNoProgramType }

// ProgramType returns the type program ps is loaded as under opts (nil for
// the defaults), and where that type came from: the options first (a type
// for this program by name, then a type for every program), then the
// section name by libbpf's rules, then by the prefix rule of older libbpf.
// The type names are those linux.ByName accepts ("xdp", "sched_cls",
// "cgroup_sock_addr/connect4", or a section name such as "cgroup/connect4").
// A program none of these types gives a *NoProgramTypeError.
func ProgramType(ps *ProgramSpec, opts *CollectionOptions) (*platform.ProgramTypeInfo, TypeSource, error) {
	if opts != nil {
		name, ok := opts.ProgramTypes[ps.Name]
		if !ok && opts.ProgramType != "" {
			name, ok = opts.ProgramType, true
		}
		if ok {
			info, err := typeByName(name)
			if err != nil {
				return nil, "", fmt.Errorf("program %q: %w", ps.Name, err)
			}
			return info, TypeFromOption, nil
		}
	}
	s, legacy, ok := linux.ABI().MatchSection(ps.Section)
	if !ok {
		return nil, "", &NoProgramTypeError{Program: ps.Name, Section: ps.Section}
	}
	if legacy {
		return s.Program, TypeFromPrefix, nil
	}
	return s.Program, TypeFromSection, nil
}

// typeByName resolves a type name of the options, ignoring case; an unknown
// name is an error that lists the valid ones.
func typeByName(name string) (*platform.ProgramTypeInfo, error) {
	if info, ok := linux.ABI().ByName(name); ok {
		return info, nil
	}
	if info, ok := linux.ABI().ByName(strings.ToLower(name)); ok {
		return info, nil
	}
	seen := map[string]bool{}
	var names []string
	for _, p := range linux.ABI().Programs() {
		if !seen[p.Name] {
			seen[p.Name] = true
			names = append(names, p.Name)
		}
	}
	sort.Strings(names)
	return nil, fmt.Errorf("unknown program type %q (a libbpf section name, or one of: %s)", name, strings.Join(names, ", "))
}

// checkTypeOptions reports type options that cannot apply to spec: an
// unknown type name, or a program name the object does not have.
func checkTypeOptions(spec *CollectionSpec, opts *CollectionOptions) error {
	if spec == nil {
		return nil // NewCollection reports it
	}
	if opts.ProgramType != "" {
		if _, err := typeByName(opts.ProgramType); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(opts.ProgramTypes))
	for name := range opts.ProgramTypes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if spec.Program(name) == nil {
			have := make([]string, len(spec.Programs))
			for i, p := range spec.Programs {
				have[i] = p.Name
			}
			if len(have) == 0 {
				have = []string{"none"}
			}
			return fmt.Errorf("no program %q in the object (it has %s)", name, strings.Join(have, ", "))
		}
		if _, err := typeByName(opts.ProgramTypes[name]); err != nil {
			return fmt.Errorf("program %q: %w", name, err)
		}
	}
	return nil
}

// CheckProgramTypes reports type options that cannot apply to spec, as
// NewCollection does: an unknown type name, or a program name the object
// does not have.
func CheckProgramTypes(spec *CollectionSpec, opts *CollectionOptions) error {
	if opts == nil {
		return nil
	}
	return checkTypeOptions(spec, opts)
}
