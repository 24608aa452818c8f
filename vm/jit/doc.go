// Package jit selects the JIT compiler for the host architecture: New
// returns vm/jit/amd64's engine on amd64. Elsewhere it returns an engine
// named "jit" whose Compile fails with an error wrapping vm.ErrUnsupported,
// so that callers (the runtime, the CLI, the conformance plugin) can list the
// engine everywhere and fall back to the interpreter where it is missing.
package jit
