//go:build !linux

package daemon

import "os/exec"

// On systems other than Linux the child runs without resource limits; the
// wall-time limit still applies.
func childLimitsEnv(ChildLimits) []string { return nil }

func setChildAttrs(*exec.Cmd) {}

func limitSelf() error { return nil }
