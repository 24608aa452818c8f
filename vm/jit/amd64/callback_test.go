package amd64_test

import (
	"testing"

	"github.com/bpfhost/bpfhost/internal/enginetest"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm/interp"
	"github.com/bpfhost/bpfhost/vm/jit/amd64"
)

// assembleFunc assembles src with function addresses; see
// enginetest.AssembleFunc.
func assembleFunc(t *testing.T, src string) []isa.Instruction {
	t.Helper()
	return enginetest.AssembleFunc(t, src)
}

// TestCallbacks checks functions passed to helpers, and that the
// interpreter agrees: results, counts, depths, budgets and errors.
func TestCallbacks(t *testing.T) { enginetest.Callbacks(t, agreeing()) }

// TestCheckedFrames checks that checked runs clear a frame when a call
// enters it, as the interpreter does, and trusted runs leave it.
func TestCheckedFrames(t *testing.T) { enginetest.CheckedFrames(t, agreeing()) }

// TestTailCalls checks tail calls, also in chains that mix JIT programs and
// interpreted ones.
func TestTailCalls(t *testing.T) { enginetest.TailCalls(t, amd64.New(), interp.New()) }

// TestSubprogramTailCalls checks tail calls made in subprograms, agreeing
// with the interpreter, also with targets each engine compiled.
func TestSubprogramTailCalls(t *testing.T) {
	enginetest.SubprogramTailCalls(t, agreeing(), interp.New(), amd64.New())
}
