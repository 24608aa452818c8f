//go:build !unix

package main

import "os"

// forwardedSignals are the signals bpfhost exec passes on to its command
// (exec runs only on Linux).
var forwardedSignals = []os.Signal{os.Interrupt}

// terminalForeground reports whether this process is in its terminal's
// foreground process group; without process groups, it is.
func terminalForeground() bool { return true }
