package bpfhost

import (
	"fmt"
	"runtime"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

// RawOptions configure NewRawProgram.
type RawOptions struct {
	// Engine runs the program; EngineDefault means EngineInterp.
	Engine Engine
	// Trusted runs the program without validating its memory accesses.
	// Raw programs are not verified: set it only for a program known to
	// be safe (a conformance test, a benchmark), never for untrusted
	// input. The default, checked, validates every load and store
	// against the stack and the run's memory.
	Trusted bool
	// Helpers are the helper functions the program may call, by ID; each
	// gets r1 to r5 and returns r0. Calls to other IDs fail to compile.
	Helpers map[int32]func(r1, r2, r3, r4, r5 uint64) (uint64, error)
}

// RawProgram is a program of bare instructions, outside any collection: no
// maps, no program type, no verifier. It runs with r1 pointing at a memory
// buffer and r2 holding its length, the calling convention of the
// bpf_conformance suite and of `bpfhost asm run`.
type RawProgram struct {
	exe  vm.Executable
	mode vm.Mode
}

// RawResult is what one run of a RawProgram did.
type RawResult struct {
	// R0 is the value the program returned.
	R0 uint64
	// Executed is how many instructions ran.
	Executed uint64
}

// NewRawProgram compiles insns for opts.Engine (nil opts: the checked
// interpreter).
func NewRawProgram(insns []isa.Instruction, opts *RawOptions) (*RawProgram, error) {
	if opts == nil {
		opts = &RawOptions{}
	}
	e := opts.Engine
	if e == EngineDefault {
		e = EngineInterp
	}
	if err := e.Available(); err != nil {
		return nil, err
	}
	engine, err := e.newVM(nil)
	if err != nil {
		return nil, err
	}
	mode := vm.Checked
	if opts.Trusted {
		mode = vm.Trusted
	}
	helpers := make(vm.Helpers, len(opts.Helpers))
	for id, fn := range opts.Helpers {
		helpers[id] = func(_ *vm.RunContext, r1, r2, r3, r4, r5 uint64) (uint64, error) { return fn(r1, r2, r3, r4, r5) }
	}
	exe, err := engine.Compile(&vm.Program{Instructions: insns, Helpers: helpers}, vm.CompileOptions{Mode: mode})
	if err != nil {
		return nil, err
	}
	return &RawProgram{exe: exe, mode: mode}, nil
}

// Mode returns "checked" or "trusted", as RawOptions.Trusted chose.
func (p *RawProgram) Mode() string { return p.mode.String() }

// Run runs the program once on mem, which it may read and write in place
// (r1 is its address, r2 its length; both 0 for empty mem). budget is the
// most instructions the run may execute; 0 means the engines' default.
func (p *RawProgram) Run(mem []byte, budget uint64) (RawResult, error) {
	if p.exe == nil {
		return RawResult{}, fmt.Errorf("%w: raw program is closed", ErrInvalid)
	}
	rc := &vm.RunContext{Budget: budget}
	if len(mem) > 0 {
		rc.Regions = []vm.Region{vm.RegionOf("memory", mem, true)}
		rc.Args[0], rc.Args[1] = uint64(rc.Regions[0].Start), uint64(len(mem))
	}
	r0, err := p.exe.Run(rc)
	runtime.KeepAlive(mem)
	return RawResult{R0: r0, Executed: rc.Executed}, err
}

// Close releases the compiled code.
func (p *RawProgram) Close() error {
	if p.exe == nil {
		return nil
	}
	err := p.exe.Close()
	p.exe = nil
	return err
}
