package amd64_test

import (
	"fmt"
	"os"
	"runtime"
	"testing"
)

// TestMain skips the package's tests where generated code cannot run.
func TestMain(m *testing.M) {
	if runtime.GOARCH != "amd64" {
		fmt.Printf("skipping: the JIT runs only on amd64, this is %s\n", runtime.GOARCH)
		os.Exit(0)
	}
	os.Exit(m.Run())
}
