package amd64_test

import (
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/jit/amd64"
)

// TestMain skips the package's tests where generated code cannot run.
func TestMain(m *testing.M) {
	if runtime.GOARCH != "amd64" {
		fmt.Printf("skipping: the JIT runs only on amd64, this is %s\n", runtime.GOARCH)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var modes = []vm.Mode{vm.Trusted, vm.Checked}

// heapBytes returns n zero bytes on the heap. Memory a program reaches must
// not live on a goroutine stack, which moves when it grows (DESIGN.md #2): a
// small make that does not visibly escape may be placed there, because
// vm.RegionOf keeps only its address. For the same reason a region does not
// keep its memory alive: tests keep it in rc.Value for as long as rc lives.
//
//go:noinline
func heapBytes(n int) []byte { return make([]byte, n) }

func compileWith(t testing.TB, engine vm.Engine, src string, mode vm.Mode, helpers vm.Helpers) vm.Executable {
	t.Helper()
	prog, err := isa.Assemble(src)
	if err != nil {
		t.Fatalf("assemble: %v\n%s", err, src)
	}
	exe, err := engine.Compile(&vm.Program{Instructions: prog, Helpers: helpers}, vm.CompileOptions{Mode: mode})
	if err != nil {
		t.Fatalf("%s compile: %v\n%s", engine.Name(), err, src)
	}
	t.Cleanup(func() { exe.Close() })
	return exe
}

func compile(t testing.TB, src string, mode vm.Mode, helpers vm.Helpers) vm.Executable {
	t.Helper()
	return compileWith(t, amd64.New(), src, mode, helpers)
}

// outcome is everything a run reports, for comparing engines.
type outcome struct {
	r0       uint64
	err      string
	executed uint64
	depth    int
}

func (o outcome) String() string {
	return fmt.Sprintf("r0=%#x err=%q executed=%d depth=%d", o.r0, o.err, o.executed, o.depth)
}
