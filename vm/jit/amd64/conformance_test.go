package amd64_test

import (
	"testing"

	"github.com/bpfhost/bpfhost/internal/enginetest"
	"github.com/bpfhost/bpfhost/vm/jit/amd64"
)

// TestConformance runs the whole suite on the JIT, in both modes.
func TestConformance(t *testing.T) { enginetest.Conformance(t, amd64.New()) }
