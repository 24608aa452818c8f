package amd64

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"unsafe"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

// Engine is the x86-64 JIT compiler. Its zero value is ready to use.
type Engine struct {
	opts Options
}

// New returns the JIT engine.
func New() vm.Engine { return &Engine{} }

// NewWithOptions returns the JIT engine configured by opts.
func NewWithOptions(opts Options) vm.Engine { return &Engine{opts: opts} }

// Name returns "jit".
func (*Engine) Name() string { return "jit" }

// Compile validates a program and translates it into machine code in
// executable memory. On architectures other than amd64 it fails with an
// error wrapping vm.ErrUnsupported, so that callers can fall back to the
// interpreter.
func (eng *Engine) Compile(p *vm.Program, opts vm.CompileOptions) (vm.Executable, error) {
	if !supported {
		return nil, fmt.Errorf("%w: JIT not available on %s", vm.ErrUnsupported, runtime.GOARCH)
	}
	if err := isa.Validate(p.Instructions); err != nil {
		return nil, err
	}
	if err := vm.CheckProbeLoads(p); err != nil {
		return nil, err
	}
	out, err := compile(p, opts.Mode, eng.opts)
	if err != nil {
		return nil, err
	}
	mem, err := mapCode(out.code)
	if err != nil {
		return nil, err
	}
	e := &executable{
		mem:         mem,
		base:        uintptr(unsafe.Pointer(&mem[0])),
		entry:       out.entry,
		start:       out.start,
		exits:       out.exits,
		helpers:     out.helpers,
		helperTable: p.Helpers,
		mode:        opts.Mode,
		zero:        p.ZeroEntryFrame,
		zeroCalls:   p.ZeroCallFrames,
		calls:       out.calls,
		funcs:       out.funcs,
		slots:       len(p.Instructions),
		lookups:     out.lookups,
		keep:        out.keep,
		layout:      out.layout,
		prog:        slices.Clone(p.Instructions),
	}
	// Executables that are dropped without Close still give their pages
	// back; Close is the prompt way.
	e.cleanup = runtime.AddCleanup(e, func(mem []byte) { _ = unmapCode(mem) }, mem)
	return e, nil
}

// executable is a compiled program.
type executable struct {
	mem         []byte  // the code pages; nil once closed
	base        uintptr // address of mem[0]
	entry       int32   // offset of the entry routine
	start       int32   // offset of instruction 0
	exits       []exitInfo
	helpers     []vm.Helper
	helperTable vm.Helpers // for callx, which names helpers at run time
	mode        vm.Mode
	zero        bool          // clear the entry frame at each run (vm.Program.ZeroEntryFrame)
	zeroCalls   bool          // clear each frame a callback enters (vm.Program.ZeroCallFrames)
	calls       bool          // BPF-to-BPF calls: runs need a callContext
	funcs       map[int]int32 // callback slots to code offsets
	slots       int
	lookups     []elemLookup // exitLookup's lookups
	keep        []*InlineMap // maps whose memory the code addresses
	layout      *layout      // where each slot's code is, for Listing
	prog        []isa.Instruction
	cleanup     runtime.Cleanup
	closeOnce   sync.Once
	closeErr    error
}

// Close unmaps the code. The executable must not be running; later runs
// fail.
func (e *executable) Close() error {
	e.closeOnce.Do(func() {
		e.cleanup.Stop()
		e.closeErr = unmapCode(e.mem)
		e.mem = nil
	})
	return e.closeErr
}

func roundUp(n, to int) int { return (n + to - 1) / to * to }
