//go:build !linux

package bench

// cpuTime is -1 where it is not measured: runs then report no cpu-ns/run.
func cpuTime() int64 { return -1 }
