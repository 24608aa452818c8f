package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// programType resolves a --type argument, ignoring case; an unknown name
// is an error that lists the valid ones.
func programType(name string) (*platform.ProgramTypeInfo, error) {
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
	return nil, fmt.Errorf("--type %q: unknown program type; valid types: %s", name, strings.Join(names, ", "))
}
