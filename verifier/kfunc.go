package verifier

// Calls of kernel functions (kfuncs) are refused: bpfhost implements none
// (the XDP RX metadata kfuncs, for one, need a driver behind the frame,
// and Linux accepts them only in programs bound to a device). The message
// names the function where the loader knows it (Options.Kfuncs).

// kfuncName names the kernel function the kfunc call at pc calls, or "".
func (e *exec) kfuncName(pc int) string {
	if e.a.opts.Kfuncs == nil {
		return ""
	}
	return e.a.opts.Kfuncs(pc)
}
