package helpers

import (
	"time"

	"golang.org/x/sys/unix"
)

// systemClocks returns CLOCK_MONOTONIC and CLOCK_BOOTTIME now.
func systemClocks() (mono, boot int64) {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) == nil {
		mono = ts.Nano()
	}
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts) == nil {
		boot = ts.Nano()
	} else {
		boot = mono
	}
	return mono, boot
}

// taiNow returns CLOCK_TAI.
func taiNow() int64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_TAI, &ts) == nil {
		return ts.Nano()
	}
	return time.Now().UnixNano() + taiOffset
}
