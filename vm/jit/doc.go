// Package jit selects the JIT compiler for the host architecture: New
// returns vm/jit/amd64's engine on amd64. Elsewhere it returns an engine
// named "jit" whose Compile fails with an error wrapping vm.ErrUnsupported,
// so that callers (the runtime, the CLI, the conformance plugin) can list the
// engine everywhere and fall back to the interpreter where it is missing.
//
// NewWithOptions takes the runtime's map resolution (Options.Maps), with
// which the JIT looks maps up without calling the helper, and Listing
// returns the machine code of an executable by eBPF slot, for disassembly
// (bpfhost disasm --jited); elsewhere it fails like Compile.
package jit
