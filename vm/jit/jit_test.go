package jit_test

import (
	"errors"
	"runtime"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/jit"
)

// TestNew checks that the engine compiles on amd64 and reports
// vm.ErrUnsupported elsewhere.
func TestNew(t *testing.T) {
	e := jit.New()
	if e.Name() != "jit" {
		t.Errorf("name %q", e.Name())
	}
	prog, _ := isa.Assemble("mov %r0, 2\nexit")
	exe, err := e.Compile(&vm.Program{Instructions: prog}, vm.CompileOptions{})
	if runtime.GOARCH != "amd64" {
		if !errors.Is(err, vm.ErrUnsupported) || !errors.Is(jit.Available(), vm.ErrUnsupported) {
			t.Errorf("compile on %s: %v, available: %v", runtime.GOARCH, err, jit.Available())
		}
		return
	}
	if err != nil || jit.Available() != nil {
		t.Fatalf("compile: %v, available: %v", err, jit.Available())
	}
	defer exe.Close()
	if r0, err := exe.Run(&vm.RunContext{}); r0 != 2 || err != nil {
		t.Errorf("run: %d, %v", r0, err)
	}
}
