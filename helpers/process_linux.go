package helpers

import (
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

func threadID() int { return unix.Gettid() }

// processName is the kernel's comm of this process.
func processName() string {
	if b, err := os.ReadFile("/proc/self/comm"); err == nil {
		if s := strings.TrimSuffix(string(b), "\n"); s != "" {
			return s
		}
	}
	return executableName()
}
