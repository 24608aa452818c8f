package daemon

import (
	"fmt"
	"strings"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/daemon/api"
)

// Xlated lists a program's instructions as they were loaded (map
// references patched), with the source lines and function names of its
// object, as "bpftool prog dump xlated" does.
func (d *Daemon) Xlated(r api.Ref) ([]api.XlatedInsn, error) {
	d.mu.Lock()
	p, err := d.findProg(r)
	d.mu.Unlock()
	if err != nil {
		return nil, err
	}
	insns := p.p.Instructions()
	// A function's first instruction carries its prototype, as bpftool
	// prints it from BTF, or else its name.
	protos := funcProtos(p.u.object)
	starts := map[int]string{}
	for _, f := range p.spec.Functions {
		starts[f.Start] = f.Name
		if proto, ok := protos[f.Name]; ok {
			starts[f.Start] = proto
		}
	}
	// The loaded lddw of a map holds the map's host address; print the
	// map's ID instead, as Linux's xlated dump does (map[id:N]), so that
	// the listing names the objects "map show" lists and does not tell
	// clients where the daemon's memory is.
	refs := map[int]string{}
	for _, ref := range p.spec.References {
		if ref.Kind != bpfhost.RefMap && ref.Kind != bpfhost.RefMapValue {
			continue
		}
		for _, mo := range p.u.maps {
			if mo.m.Name() != ref.Name {
				continue
			}
			refs[ref.Slot] = fmt.Sprintf("map[id:%d]", mo.id)
			if ref.Kind == bpfhost.RefMapValue {
				refs[ref.Slot] += fmt.Sprintf("[0]+%d", ref.Offset)
			}
		}
	}
	var out []api.XlatedInsn
	for pc := 0; pc < len(insns); {
		// In the kernel's syntax, as bpftool prints it (xlatedfmt.go).
		text, n := kernelInsn(insns, pc, refs[pc])
		ins := insns[pc]
		x := api.XlatedInsn{PC: pc, Disasm: fmt.Sprintf("(%02x) %s", uint8(ins.Opcode), text), Proto: starts[pc]}
		// Every line record, also one that repeats the line before,
		// as bpftool prints the kernel's.
		if l := p.spec.Line(pc); l.Known() && l.Start && l.Text != "" {
			x.Src = strings.TrimSpace(l.Text)
			x.File, x.Line, x.Col = l.File, l.Line, l.Column
		}
		out = append(out, x)
		pc += n
	}
	return out, nil
}
