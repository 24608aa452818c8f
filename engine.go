package bpfhost

import (
	"fmt"
	"strings"

	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
	"github.com/bpfhost/bpfhost/vm/jit"
)

// Engine names an execution engine. It is the one list of engines that
// CollectionOptions, RawOptions, the CLI's --engine flags and the
// conformance plugin accept.
type Engine string

const (
	// EngineDefault lets NewCollection choose: EngineJIT where it is
	// available (amd64) and the programs are verified, EngineInterp
	// elsewhere.
	EngineDefault Engine = ""
	// EngineInterp is the interpreter (vm/interp), available everywhere.
	EngineInterp Engine = "interp"
	// EngineJIT is the compiler to machine code (vm/jit), available on
	// amd64.
	EngineJIT Engine = "jit"
)

// Engines returns the names of the engines, in the order help texts list
// them.
func Engines() []Engine { return []Engine{EngineInterp, EngineJIT} }

// EngineNames returns the engines' names joined for a help text or an
// error: "interp or jit".
func EngineNames() string {
	names := make([]string, 0, len(Engines()))
	for _, e := range Engines() {
		names = append(names, string(e))
	}
	return strings.Join(names, " or ")
}

// ParseEngine returns the engine a name means, ignoring case. An unknown
// name is an error that lists the valid ones.
func ParseEngine(name string) (Engine, error) {
	for _, e := range Engines() {
		if strings.EqualFold(name, string(e)) {
			return e, nil
		}
	}
	return "", fmt.Errorf("engine %q: want %s", name, EngineNames())
}

// String returns the engine's name, "default" for EngineDefault.
func (e Engine) String() string {
	if e == EngineDefault {
		return "default"
	}
	return string(e)
}

// Available returns nil if the engine can run programs on this machine,
// otherwise why not (the JIT on another architecture).
func (e Engine) Available() error {
	switch e {
	case EngineDefault, EngineInterp:
		return nil
	case EngineJIT:
		return jit.Available()
	}
	return fmt.Errorf("engine %q: want %s", string(e), EngineNames())
}

// newVM returns a new instance of the engine. inline, if not nil, lets the
// JIT look constant map pointers up (vm/jit Options.Maps).
func (e Engine) newVM(inline func(uint64) (jit.InlineMap, bool)) (vm.Engine, error) {
	switch e {
	case EngineInterp:
		return interp.New(), nil
	case EngineJIT:
		if inline != nil {
			return jit.NewWithOptions(jit.Options{Maps: inline}), nil
		}
		return jit.New(), nil
	}
	return nil, fmt.Errorf("engine %q: want %s", string(e), EngineNames())
}

// collectionEngine returns the engine of a collection with these options.
func collectionEngine(opts *CollectionOptions) (vm.Engine, error) {
	e := opts.Engine
	if e == EngineDefault {
		// Unverified programs default to the checked interpreter, the
		// reference that fuzzers and oracles compare against.
		e = EngineJIT
		if opts.Unverified || jit.Available() != nil {
			e = EngineInterp
		}
	}
	return e.newVM(inlineMap)
}
