package interp_test

import (
	"testing"

	"github.com/bpfhost/bpfhost/internal/enginetest"
	"github.com/bpfhost/bpfhost/vm/interp"
)

// The interpreter's semantics tests are the ones every engine runs; see
// package enginetest.

func TestSemantics(t *testing.T)         { enginetest.Semantics(t, interp.New()) }
func TestLocalCalls(t *testing.T)        { enginetest.LocalCalls(t, interp.New()) }
func TestCheckedFrames(t *testing.T)     { enginetest.CheckedFrames(t, interp.New()) }
func TestBudget(t *testing.T)            { enginetest.Budget(t, interp.New()) }
func TestChecked(t *testing.T)           { enginetest.CheckedFaults(t, interp.New()) }
func TestHelpers(t *testing.T)           { enginetest.Helpers(t, interp.New()) }
func TestCompileErrors(t *testing.T)     { enginetest.CompileErrors(t, interp.New()) }
func TestCallbacks(t *testing.T)         { enginetest.Callbacks(t, interp.New()) }
func TestLegacyPacketLoads(t *testing.T) { enginetest.LegacyPacketLoads(t, interp.New()) }
func TestConcurrentRuns(t *testing.T)    { enginetest.ConcurrentRuns(t, interp.New()) }
func TestTailCalls(t *testing.T)         { enginetest.TailCalls(t, interp.New()) }

// TestSubprogramTailCalls checks tail calls made in subprograms.
func TestSubprogramTailCalls(t *testing.T) { enginetest.SubprogramTailCalls(t, interp.New()) }
