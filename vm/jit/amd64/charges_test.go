package amd64_test

import (
	"testing"

	"github.com/bpfhost/bpfhost/internal/enginetest"
	"github.com/bpfhost/bpfhost/vm/jit/amd64"
)

func TestCharges(t *testing.T) { enginetest.Charges(t, amd64.New()) }
func TestCancel(t *testing.T)  { enginetest.Cancel(t, amd64.New()) }
