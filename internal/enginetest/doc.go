// Package enginetest holds what every execution engine is tested and measured
// with, so that the interpreter and the JIT run the same checks (as wazero's
// engines share their spec tests): the conformance suite in both memory
// modes, the semantics tests (one exported function per concern, each taking
// the vm.Engine under test), a fuzz target, and the benchmark programs.
//
// Agree wraps two engines into one that runs every program on both and
// fails runs where they differ, so that an engine's tests, given
// Agree(interp.New(), jit), also compare it with the reference
// interpreter: results, errors, instruction counts, stack and memory.
package enginetest
