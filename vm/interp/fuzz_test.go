package interp_test

import (
	"testing"

	"github.com/bpfhost/bpfhost/internal/enginetest"
	"github.com/bpfhost/bpfhost/vm/interp"
)

// FuzzChecked runs arbitrary valid programs in checked mode: every run must
// end with a result or an *vm.ExecError (see enginetest.FuzzChecked).
func FuzzChecked(f *testing.F) { enginetest.FuzzChecked(f, interp.New()) }
