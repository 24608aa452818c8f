package verifier

// timerArg checks the struct bpf_timer argument of a timer helper in
// register r, a pointer into a map value at a constant offset: the map's
// BTF must declare a timer there (MapInfo.HasTimer), as Linux requires. It
// reports whether the argument passed.
func (e *exec) timerArg(s *state, pc, r int, name string) bool {
	v := s.regs[r]
	mi := e.a.maps[v.region]
	if parts, ok := e.a.parts[v.region]; ok {
		// A value of one of several maps: each must have its timer at
		// the same offset.
		for _, id := range parts {
			if !e.timerAt(pc, r, name, e.a.maps[id], s.ival(r).smin) {
				return false
			}
		}
		return true
	}
	return e.timerAt(pc, r, name, mi, s.ival(r).smin)
}

func (e *exec) timerAt(pc, r int, name string, mi *MapInfo, off int64) bool {
	switch {
	case !mi.HasTimer:
		e.fail(pc, "%s: map %s's value has no struct bpf_timer (its BTF type declares none)", name, mi.Name)
		return false
	case off != int64(mi.TimerOffset):
		e.fail(pc, "%s needs the bpf_timer of map %s's value at offset %d; r%d is at offset %d", name, mi.Name, mi.TimerOffset, r, off)
		return false
	}
	return true
}

// timerCallbackMap is the map whose value holds the timer (map value
// region) that bpf_timer_set_callback is given: its callback is called
// with that map, a key and that value, and is verified with them, as Linux
// verifies it. A timer of one of several maps (joined paths) is refused:
// the callback needs to know which. It returns -1 after a refusal.
func (e *exec) timerCallbackMap(pc int, region int32, name string) int32 {
	if _, joined := e.a.parts[region]; joined {
		e.fail(pc, "%s on a timer of one of several maps (joined paths): its callback needs to know which", name)
		return -1
	}
	return region
}

// mapProgCompatible refuses a program's use (an lddw) of a map whose value
// holds a bpf_spin_lock or a bpf_timer where the program type may not use
// one (platform.ProgramTypeInfo.NoLockMaps, NoTimerMaps), with Linux's
// reason: such a program may run in any context (NMI, under the lock).
func (e *exec) mapProgCompatible(pc int, mi *MapInfo) {
	t := e.a.opts.Type
	switch {
	case mi.HasSpinLock && t.NoLockMaps:
		e.fail(pc, "map %s holds a bpf_spin_lock, which %s programs may not use", mi.Name, t)
	case mi.HasTimer && t.NoTimerMaps:
		e.fail(pc, "map %s holds a bpf_timer, which %s programs may not use", mi.Name, t)
	}
}
