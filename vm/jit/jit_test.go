package jit_test

import (
	"errors"
	"runtime"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
	"github.com/bpfhost/bpfhost/vm/jit"
)

// TestNew checks that the engine compiles on amd64 and reports
// vm.ErrUnsupported elsewhere, and the listing of what it compiled.
func TestNew(t *testing.T) {
	prog, _ := isa.Assemble("mov %r0, 2\nexit")
	for _, e := range []vm.Engine{jit.New(), jit.NewWithOptions(jit.Options{})} {
		if e.Name() != "jit" {
			t.Errorf("name %q", e.Name())
		}
		exe, err := e.Compile(&vm.Program{Instructions: prog}, vm.CompileOptions{})
		if runtime.GOARCH != "amd64" {
			if !errors.Is(err, vm.ErrUnsupported) || !errors.Is(jit.Available(), vm.ErrUnsupported) {
				t.Errorf("compile on %s: %v, available: %v", runtime.GOARCH, err, jit.Available())
			}
			if _, err := jit.Listing(nil); !errors.Is(err, vm.ErrUnsupported) {
				t.Errorf("listing on %s: %v", runtime.GOARCH, err)
			}
			continue
		}
		if err != nil || jit.Available() != nil {
			t.Fatalf("compile: %v, available: %v", err, jit.Available())
		}
		if r0, err := exe.Run(&vm.RunContext{}); r0 != 2 || err != nil {
			t.Errorf("run: %d, %v", r0, err)
		}
		blocks, err := jit.Listing(exe)
		if err != nil || len(blocks) != 6 || blocks[4].PC != 0 || blocks[4].Name != "mov %r0, 2" {
			t.Errorf("listing: %v, %+v", err, blocks)
		}
		exe.Close()
	}
	if runtime.GOARCH == "amd64" {
		exe, _ := interp.New().Compile(&vm.Program{Instructions: prog}, vm.CompileOptions{})
		if _, err := jit.Listing(exe); !errors.Is(err, jit.ErrNotJIT) {
			t.Errorf("listing of an interpreter executable: %v", err)
		}
	}
}
