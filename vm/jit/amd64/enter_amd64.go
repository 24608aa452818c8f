package amd64

import "unsafe"

// supported says whether this build can run generated code.
const supported = true

// enter runs generated code: it calls the entry routine at entry with ctx
// in r9 and returns when the code takes an exit (enter_amd64.s).
//
//go:noescape
func enter(entry uintptr, ctx unsafe.Pointer)
