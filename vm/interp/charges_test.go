package interp_test

import (
	"testing"

	"github.com/bpfhost/bpfhost/internal/enginetest"
	"github.com/bpfhost/bpfhost/vm/interp"
)

func TestCharges(t *testing.T) { enginetest.Charges(t, interp.New()) }
func TestCancel(t *testing.T)  { enginetest.Cancel(t, interp.New()) }
