package amd64_test

import (
	"testing"

	"github.com/bpfhost/bpfhost/internal/enginetest"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
	"github.com/bpfhost/bpfhost/vm/jit/amd64"
)

// agreeing is the JIT checked against the interpreter: the semantics tests
// every engine runs (package enginetest) then also require the interpreter
// to agree on r0, errors, instruction counts, depth, stack and memory.
func agreeing() vm.Engine { return enginetest.Agree(interp.New(), amd64.New()) }

func TestSemantics(t *testing.T)         { enginetest.Semantics(t, agreeing()) }
func TestLocalCalls(t *testing.T)        { enginetest.LocalCalls(t, agreeing()) }
func TestBudget(t *testing.T)            { enginetest.Budget(t, agreeing()) }
func TestChecked(t *testing.T)           { enginetest.CheckedFaults(t, agreeing()) }
func TestHelpers(t *testing.T)           { enginetest.Helpers(t, agreeing()) }
func TestCompileErrors(t *testing.T)     { enginetest.CompileErrors(t, agreeing()) }
func TestLegacyPacketLoads(t *testing.T) { enginetest.LegacyPacketLoads(t, agreeing()) }

// TestConcurrentRuns runs the JIT alone: Agree's runs restore shared memory.
func TestConcurrentRuns(t *testing.T) { enginetest.ConcurrentRuns(t, amd64.New()) }

// TestClose checks that a closed executable refuses to run and that Close
// is idempotent.
func TestClose(t *testing.T) {
	prog, _ := isa.Assemble("mov %r0, 1\nexit")
	exe, err := amd64.New().Compile(&vm.Program{Instructions: prog}, vm.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := exe.Close(); err != nil {
		t.Fatal(err)
	}
	if err := exe.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if _, err := exe.Run(&vm.RunContext{}); err == nil {
		t.Error("run after close succeeded")
	}
}
