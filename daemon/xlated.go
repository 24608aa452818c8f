package daemon

import (
	"fmt"
	"strings"

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
	var out []api.XlatedInsn
	last := ""
	for pc := 0; pc < len(insns); {
		text, n := isa.FormatLLVM(insns, pc)
		if n == 0 {
			n = 1
		}
		x := api.XlatedInsn{PC: pc, Disasm: fmt.Sprintf("(%02x) %s", uint8(insns[pc].Opcode), text), Proto: starts[pc]}
		if l := p.spec.Line(pc); l.Known() && l.Start && l.Text != "" && l.Text != last {
			x.Src = strings.TrimSpace(l.Text)
			last = l.Text
		}
		out = append(out, x)
		pc += n
	}
	return out, nil
}
