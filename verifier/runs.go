package verifier

import "sync/atomic"

// runs counts the analyses Verify started in this process.
var runs atomic.Uint64

// Runs returns how many times Verify has analysed a program in this
// process (calls rejected for bad options or a malformed program are not
// counted). Loaders and their tests use it to show that a program is
// verified once, where they meant to verify it.
func Runs() uint64 { return runs.Load() }
