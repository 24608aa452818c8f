package verifier

// Helper reads of unwritten stack. Linux lets privileged programs pass
// stack memory they have not fully written to helpers (OVS's datapath
// prints a partly filled buffer with bpf_trace_printk); for bpfhost the
// question is what such bytes hold. Every run begins with the entry
// function's frame zeroed, in both engines and after every tail call
// (vm.RunContext.Begin, vm.EntryFrameZeroed), so a byte of frame 0 that
// this path has not written holds 0 or what this run wrote there on
// another path: never an earlier run's data or host memory. What this run
// wrote may have been a pointer, which must not reach a helper as data,
// so a byte that may hold part of a spilled pointer on any path
// (frame.ptr, joined by union) is still refused. Deeper frames are not
// cleared by trusted runs (a call costs no clearing), and direct loads of
// unwritten bytes stay errors: their value would feed the analysis.

// EntryFrameZeroed is the run-time guarantee the rule relies on, stated
// here as well as in vm (vm.EntryFrameZeroed) because the verifier does not
// import the engines; a test checks that they agree.
const EntryFrameZeroed = true

// uninitReadAllowed reports whether a helper may read bytes [bs, be) of
// frame fi (offsets from the frame's bottom) although some are unwritten.
func uninitReadAllowed(f *frame, fi, bs, be int) bool {
	return EntryFrameZeroed && fi == 0 && !f.ptr.any(bs, be)
}
