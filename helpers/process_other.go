//go:build !linux

package helpers

import "os"

// threadID is the process ID: other hosts have no cheap thread ID.
func threadID() int { return os.Getpid() }

func processName() string { return executableName() }
