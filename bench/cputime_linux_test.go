package bench

import "syscall"

// cpuTime returns the CPU time the process has used, in ns: on a shared
// machine it counts only the time the runs were scheduled, where the wall
// clock also counts the time other processes had the CPU.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
