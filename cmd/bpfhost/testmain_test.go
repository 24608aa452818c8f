package main

import (
	"os"
	"testing"
)

// testEntryPoints let the test binary stand in for another program when a
// test re-executes it (the bpfhost command for the daemon tests, a socket
// client for the exec tests): each returns if its environment does not ask
// for it, and exits otherwise.
var testEntryPoints []func()

func TestMain(m *testing.M) {
	for _, entry := range testEntryPoints {
		entry()
	}
	os.Exit(m.Run())
}
