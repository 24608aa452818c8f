package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/bpfhost/bpfhost"
)

// Programs of sections whose names begin with "?" (SEC("?xdp")) are not
// loaded automatically, as libbpf does not load them
// (docs/decisions/0042-autoload.md): commands over all of an object's
// programs skip them and say so once; a command that names one with
// --program loads it, as a user who names it expects.

// notAutoloaded returns the names of the programs of spec whose autoload
// is off, sorted.
func notAutoloaded(spec *bpfhost.CollectionSpec) []string {
	var names []string
	for _, p := range spec.Programs {
		if p.NoAutoload {
			names = append(names, p.Name)
		}
	}
	sort.Strings(names)
	return names
}

// autoloadNamed turns on the autoload of the programs of spec that names
// lists, for commands that load a whole object and use the programs named.
func autoloadNamed(spec *bpfhost.CollectionSpec, names ...string) {
	for _, n := range names {
		if p := spec.Program(n); p != nil {
			p.NoAutoload = false
		}
	}
}

// skippedNote is the note for the programs a command over every program
// skipped because their autoload is off ("" for none).
func skippedNote(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return fmt.Sprintf("skipped %s of \"?\" sections, not loaded automatically (as libbpf): %s; name one with --program",
		plural(len(names), "program"), strings.Join(names, ", "))
}

// noteSkipped writes skippedNote of names to w, if any.
func noteSkipped(w io.Writer, names []string) {
	if note := skippedNote(names); note != "" {
		fmt.Fprintln(w, "bpfhost: "+note)
	}
}

// elfSection is the section name of p as the object spells it, with the
// "?" where its autoload is off.
func elfSection(p *bpfhost.ProgramSpec) string {
	if p.NoAutoload {
		return "?" + p.Section
	}
	return p.Section
}
