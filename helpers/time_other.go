//go:build !linux

package helpers

import "time"

// systemClocks has no system monotonic clock to align with: the clocks
// count from the process start (plus one second, so that 0 stays unused).
func systemClocks() (mono, boot int64) { return int64(time.Second), int64(time.Second) }

// taiNow returns CLOCK_TAI from the wall clock.
func taiNow() int64 { return time.Now().UnixNano() + taiOffset }
