package daemon

import (
	"errors"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/isa"
)

// Jited lists a program's machine code by eBPF instruction, as "bpftool
// prog dump jited" does. A program the daemon interprets (--no-jit, or a
// JIT fallback) has none: that is CodeNotSupp.
func (d *Daemon) Jited(r api.Ref) ([]api.JitedBlock, error) {
	d.mu.Lock()
	p, err := d.findProg(r)
	if err == nil {
		d.hold(p.u) // the code stays mapped while it is read
	}
	d.mu.Unlock()
	if err != nil {
		return nil, err
	}
	defer d.release(p.u)
	if p.p.Engine() != "jit" {
		return nil, errorf(api.CodeNotSupp, "program %d is interpreted: it has no machine code", p.id)
	}
	blocks, err := p.p.JITListing()
	if errors.Is(err, bpfhost.ErrClosed) {
		return nil, errorf(api.CodeNotFound, "program %d: unloaded", p.id)
	}
	if err != nil {
		return nil, errorf(api.CodeNotSupp, "program %d: %v", p.id, err)
	}
	insns := p.p.Instructions()
	out := make([]api.JitedBlock, 0, len(blocks))
	for _, b := range blocks {
		jb := api.JitedBlock{PC: b.PC, OutOfLine: b.OutOfLine, Offset: b.Offset, Code: b.Insns}
		if b.PC < 0 {
			jb.Name = b.Name
		} else {
			jb.Insn, _ = isa.FormatLLVM(insns, b.PC)
		}
		out = append(out, jb)
	}
	return out, nil
}

// jitedSize is the size of p's machine code, as bpftool's bytes_jited, or
// 0 if it is interpreted; measured once. d.mu is held (p is registered,
// so its code is mapped).
func (p *prog) jitedSize() int {
	if n := p.jited.Load(); n != 0 || p.p.Engine() != "jit" {
		return int(n)
	}
	blocks, err := p.p.JITListing()
	if err != nil {
		return 0
	}
	n := 0
	for _, b := range blocks {
		n += len(b.Code)
	}
	p.jited.Store(int64(n))
	return n
}
