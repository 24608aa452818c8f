package enginetest

import (
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

// modes are the memory modes every semantics test runs in.
var modes = []vm.Mode{vm.Trusted, vm.Checked}

// identity is helper 5 of the conformance suite: it returns r1.
func identity(_ *vm.RunContext, r1, _, _, _, _ uint64) (uint64, error) { return r1, nil }

// heapBytes returns n zero bytes on the heap. Memory a program reaches must
// not live on a goroutine stack, which moves when it grows (DESIGN.md #2): a
// small make that does not visibly escape may be placed there, because
// vm.RegionOf keeps only its address. For the same reason tests keep the
// memory in rc.Value for as long as rc lives.
//
//go:noinline
func heapBytes(n int) []byte { return make([]byte, n) }

// compile assembles src and compiles it with e, failing t if either fails.
// The executable is closed when t ends.
func compile(t testing.TB, e vm.Engine, src string, mode vm.Mode, helpers vm.Helpers) vm.Executable {
	t.Helper()
	prog, err := isa.Assemble(src)
	if err != nil {
		t.Fatalf("assemble: %v\n%s", err, src)
	}
	exe, err := e.Compile(&vm.Program{Instructions: prog, Helpers: helpers}, vm.CompileOptions{Mode: mode})
	if err != nil {
		t.Fatalf("%s compile (%v): %v\n%s", e.Name(), mode, err, src)
	}
	t.Cleanup(func() { exe.Close() })
	return exe
}

// withExit appends an exit unless src ends with one.
func withExit(src string) string {
	if strings.HasSuffix(strings.TrimSpace(src), "exit") {
		return src
	}
	return src + "\nexit"
}
