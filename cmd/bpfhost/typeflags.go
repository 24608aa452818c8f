package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bpfhost/bpfhost"
)

// addTypeFlag registers the repeatable --type flag of verify, run and
// object show.
func addTypeFlag(cmd *cobra.Command, v *[]string) {
	cmd.Flags().StringArrayVar(v, "type", nil, "program type (xdp, sched_cls, socket_filter, ..., or a libbpf section name): "+
		"TYPE for every program of the object, whatever its section says, as tc and ip load a whole object; "+
		"PROGRAM=TYPE for one program (repeatable, wins over TYPE)")
}

// typeOptions turns --type values into the collection options that carry
// them: at most one TYPE for every program and any number of PROGRAM=TYPE.
func typeOptions(values []string) (*bpfhost.CollectionOptions, error) {
	opts := &bpfhost.CollectionOptions{}
	for _, v := range values {
		name, typ, perProgram := strings.Cut(v, "=")
		switch {
		case !perProgram && opts.ProgramType != "":
			return nil, &exitError{code: 2, err: fmt.Errorf("--type %s: the type of every program is already %s (use PROGRAM=TYPE for single programs)", v, opts.ProgramType)}
		case !perProgram:
			opts.ProgramType = v
		case name == "" || typ == "":
			return nil, &exitError{code: 2, err: fmt.Errorf("--type %q: want TYPE or PROGRAM=TYPE", v)}
		default:
			if opts.ProgramTypes == nil {
				opts.ProgramTypes = map[string]string{}
			}
			if old, dup := opts.ProgramTypes[name]; dup && old != typ {
				return nil, &exitError{code: 2, err: fmt.Errorf("--type %s: program %s already has type %s", v, name, old)}
			}
			opts.ProgramTypes[name] = typ
		}
	}
	return opts, nil
}

// typeForShow is bpfhost.ProgramType with the command line's advice for a
// program without a type.
func typeForShow(ps *bpfhost.ProgramSpec, opts *bpfhost.CollectionOptions) (string, bpfhost.TypeSource, error) {
	info, source, err := bpfhost.ProgramType(ps, opts)
	if err != nil {
		return "", "", typeAdvice(err)
	}
	return info.Name, source, nil
}

// typeAdvice adds to an error about a program without a type how to give
// it one on the command line.
func typeAdvice(err error) error {
	var nt *bpfhost.NoProgramTypeError
	if errors.As(err, &nt) {
		return &exitError{code: 2, err: fmt.Errorf("%w with --type TYPE (every program) or --type %s=TYPE (this one)", err, nt.Program)}
	}
	return err
}

// describeType is how the tables show a type and where it came from, when
// not from the section name: "xdp [section prefix]", "sched_cls [--type]".
func describeType(typ string, source bpfhost.TypeSource) string {
	switch source {
	case bpfhost.TypeFromSection, "":
		return typ
	case bpfhost.TypeFromOption:
		return typ + " [--type]"
	}
	return fmt.Sprintf("%s [%s]", typ, source)
}

// loadSpecFor loads the object at path. When it names a program the object
// does not have among its sections' programs (--program, --type
// PROGRAM=TYPE), the functions in .text are programs too: those named stay,
// the others are left out.
func loadSpecFor(path, program string, opts *bpfhost.CollectionOptions) (*bpfhost.CollectionSpec, error) {
	spec, err := bpfhost.LoadCollectionSpec(path)
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	wanted := map[string]bool{}
	if program != "" && spec.Program(program) == nil {
		wanted[program] = true
	}
	for name := range opts.ProgramTypes {
		if spec.Program(name) == nil {
			wanted[name] = true
		}
	}
	if len(wanted) == 0 {
		return spec, nil
	}
	withText, err := bpfhost.LoadCollectionSpecWithFunctions(path)
	if err != nil {
		return spec, nil // no usable .text: the caller reports the missing name
	}
	kept := withText.Programs[:0]
	for _, p := range withText.Programs {
		if p.Section != bpfhost.TextSection || wanted[p.Name] {
			kept = append(kept, p)
		}
	}
	withText.Programs = kept
	return withText, nil
}

// textFunctions lists the functions in the .text section of the object at
// path, which --program NAME --type TYPE verifies or runs; nil if none or
// the object cannot be read that way.
func textFunctions(path string) []string {
	spec, err := bpfhost.LoadCollectionSpecWithFunctions(path)
	if err != nil {
		return nil
	}
	var names []string
	for _, p := range spec.Programs {
		if p.Section == bpfhost.TextSection {
			names = append(names, p.Name)
		}
	}
	sort.Strings(names)
	return names
}

// noProgramsError is the error for an object without programs in named
// sections.
func noProgramsError(path string) error {
	if fns := textFunctions(path); len(fns) > 0 {
		return &exitError{code: 2, err: fmt.Errorf("%s: no program in a named section; its .text has the functions %s: choose one with --program NAME --type TYPE",
			path, strings.Join(fns, ", "))}
	}
	return &exitError{code: 2, err: fmt.Errorf("%s: no programs", path)}
}
