package verifier

// Reads of unwritten stack. Linux lets privileged loaders (every bpfhost
// loader is one) read stack bytes a program has not written: a direct load
// gives an unknown number, a helper may read a partly written buffer
// (OVS's datapath prints one with bpf_trace_printk; Katran-style load
// balancers load fields of structs they filled in part). For bpfhost the
// question is what such bytes hold. A program that reads unwritten bytes
// of its entry frame starts every run with that frame zeroed, and one that
// reads unwritten bytes of a deeper frame has each frame zeroed as a call
// enters it, in both engines, in checked runs and after every tail call
// (vm.RunContext.Begin, vm.EntryFrameZeroed, vm.CallFramesZeroed). So an
// unwritten byte holds 0 or what this run (for a deeper frame: this call)
// wrote there on another path: never an earlier run's or call's data nor
// host memory. What was written may have been a pointer, which must not
// reach the program as a number, so a byte that may hold part of a spilled
// pointer on any path (frame.ptr, joined by union) is still refused.
// Atomic operations on unwritten bytes stay errors.

// EntryFrameZeroed is the run-time guarantee the rule relies on for the
// entry frame, stated here as well as in vm (vm.EntryFrameZeroed) because
// the verifier does not import the engines; a test checks that they agree.
const EntryFrameZeroed = true

// CallFramesZeroed is the same guarantee for the frames calls enter
// (vm.CallFramesZeroed).
const CallFramesZeroed = true

// unwrittenRead reports whether bytes [bs, be) of frame fi (offsets from
// the frame's bottom), some of which are unwritten on this path, may be
// read, and if so records which frames the run time must clear
// (Result.ZeroEntryFrame, Result.ZeroCallFrames).
func (e *exec) unwrittenRead(f *frame, fi, bs, be int) bool {
	if f.ptr.any(bs, be) {
		return false
	}
	switch {
	case fi == 0 && EntryFrameZeroed:
		e.a.readsUnwritten = true
	case fi > 0 && CallFramesZeroed:
		e.a.readsUnwrittenCalls = true
	default:
		return false
	}
	return true
}

// unwrittenWhy completes the message of a refused read of bytes [bs, be)
// of f, some unwritten: why they may not be read unwritten.
func unwrittenWhy(f *frame, bs, be int) string {
	if f.ptr.any(bs, be) {
		return " (unwritten bytes may be read where no path may have left part of a pointer, and part of these may hold one)"
	}
	return ""
}
