package daemon

import (
	"fmt"
	"strings"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/isa"
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
	starts := map[int]string{}
	for _, f := range p.spec.Functions {
		starts[f.Start] = f.Name
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
	last := ""
	for pc := 0; pc < len(insns); {
		text, n := isa.FormatLLVM(insns, pc)
		if n == 0 {
			n = 1
		}
		ins := insns[pc]
		if m, ok := refs[pc]; ok && ins.Opcode == isa.OpLoadImm64 {
			text = fmt.Sprintf("r%d = %s", ins.Dst, m)
		} else if ins.Opcode == isa.OpCall && ins.Src == isa.CallHelper {
			// bpftool names the kernel function; the helper's name is
			// the nearest true equivalent.
			text = fmt.Sprintf("call %s#%d", bpfhost.HelperName(ins.Imm), ins.Imm)
		}
		x := api.XlatedInsn{PC: pc, Disasm: fmt.Sprintf("(%02x) %s", uint8(ins.Opcode), text), Proto: starts[pc]}
		if l := p.spec.Line(pc); l.Known() && l.Start && l.Text != "" && l.Text != last {
			x.Src = strings.TrimSpace(l.Text)
			x.File, x.Line, x.Col = l.File, l.Line, l.Column
			last = l.Text
		}
		out = append(out, x)
		pc += n
	}
	return out, nil
}
