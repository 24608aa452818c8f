//go:build !amd64

package amd64

import "unsafe"

// supported says whether this build can run generated code.
const supported = false

// enter is never called on other architectures: Compile refuses first.
func enter(uintptr, unsafe.Pointer) {}
