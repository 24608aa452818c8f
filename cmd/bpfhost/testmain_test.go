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

// afterTests holds what tests leave for TestMain to remove once all have
// run, such as a binary built once and shared by many tests.
var afterTests []func()

func TestMain(m *testing.M) {
	for _, entry := range testEntryPoints {
		entry()
	}
	code := m.Run()
	for _, f := range afterTests {
		f()
	}
	os.Exit(code)
}
