package interp_test

import (
	"testing"

	"github.com/bpfhost/bpfhost/internal/enginetest"
	"github.com/bpfhost/bpfhost/vm/interp"
)

// TestConformance runs the whole suite on the interpreter, in both modes.
func TestConformance(t *testing.T) { enginetest.Conformance(t, interp.New()) }
