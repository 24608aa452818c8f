package amd64_test

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/jit/amd64"
)

// anonMappings returns the total size of anonymous mappings with the given
// permissions ("r-xp") and whether any mapping is writable and executable.
func anonMappings(t *testing.T, perms string) (size uint64, wx bool) {
	t.Helper()
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		if strings.Contains(fields[1], "w") && strings.Contains(fields[1], "x") {
			wx = true
		}
		if fields[1] != perms || fields[4] != "0" || len(fields) > 5 { // inode 0, no path: anonymous
			continue
		}
		lo, hi, _ := strings.Cut(fields[0], "-")
		a, err1 := strconv.ParseUint(lo, 16, 64)
		b, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad maps line %q", sc.Text())
		}
		size += b - a
	}
	return size, wx
}

// TestCodeMemory compiles and closes thousands of programs and checks that
// the executable mappings they made are all gone, and that code is never
// mapped writable and executable at once.
func TestCodeMemory(t *testing.T) {
	prog, err := isa.Assemble("mov %r0, 2\nmov %r1, 3\ncall local f\nexit\nf:\nadd %r0, %r1\nexit")
	if err != nil {
		t.Fatal(err)
	}
	compile := func() vm.Executable {
		exe, err := amd64.New().Compile(&vm.Program{Instructions: prog}, vm.CompileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return exe
	}
	before, _ := anonMappings(t, "r-xp")

	// Live executables show up (the test can see what it looks for)...
	var live []vm.Executable
	for range 100 {
		live = append(live, compile())
	}
	during, wx := anonMappings(t, "r-xp")
	if during < before+100*uint64(os.Getpagesize()) {
		t.Errorf("executable anonymous memory %d bytes with 100 programs, %d before", during, before)
	}
	if wx {
		t.Error("a mapping is writable and executable")
	}
	for _, exe := range live {
		if r0, err := exe.Run(&vm.RunContext{}); r0 != 5 || err != nil {
			t.Fatalf("run: %d, %v", r0, err)
		}
		exe.Close()
	}

	// ...and thousands compiled and closed leave nothing behind.
	n := 3000
	if testing.Short() {
		n = 500
	}
	for range n {
		exe := compile()
		if r0, err := exe.Run(&vm.RunContext{}); r0 != 5 || err != nil {
			t.Fatalf("run: %d, %v", r0, err)
		}
		if err := exe.Close(); err != nil {
			t.Fatal(err)
		}
	}
	after, _ := anonMappings(t, "r-xp")
	if after != before {
		t.Errorf("executable anonymous memory: %d bytes before, %d after %d programs", before, after, n)
	}

	// Executables dropped without Close are unmapped once collected.
	for range 100 {
		compile()
	}
	// Finalizers run on a goroutine of their own, late on a busy machine.
	for deadline := time.Now().Add(30 * time.Second); ; {
		runtime.GC()
		if after, _ = anonMappings(t, "r-xp"); after == before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dropped executables still mapped: %d bytes, %d before", after, before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
