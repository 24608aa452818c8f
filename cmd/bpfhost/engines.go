package main

import (
	"fmt"

	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
	"github.com/bpfhost/bpfhost/vm/jit"
)

// engineByName returns the engine the --engine flag names.
func engineByName(name string) (vm.Engine, error) {
	switch name {
	case "interp":
		return interp.New(), nil
	case "jit":
		if err := jit.Available(); err != nil {
			return nil, err
		}
		return jit.New(), nil
	}
	return nil, fmt.Errorf("--engine %q: want interp or jit", name)
}
