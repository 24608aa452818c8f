package daemon

import (
	"bytes"
	"debug/elf"
	"sort"

	"github.com/bpfhost/bpfhost"
)

// firstProgram is the program "bpftool prog load" pins: libbpf's first,
// in the object's order (by section, then by offset in it), not the first
// by name as the spec lists them. "" if the ELF says nothing the spec
// knows (the caller then takes the spec's first).
func firstProgram(object []byte, spec *bpfhost.CollectionSpec) string {
	f, err := elf.NewFile(bytes.NewReader(object))
	if err != nil {
		return ""
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return ""
	}
	type cand struct {
		sec  elf.SectionIndex
		off  uint64
		name string
	}
	var cands []cand
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || elf.ST_BIND(s.Info) == elf.STB_LOCAL ||
			s.Section <= elf.SHN_UNDEF || s.Section >= elf.SHN_LORESERVE || int(s.Section) >= len(f.Sections) {
			continue
		}
		if sec := f.Sections[s.Section]; sec.Name == ".text" || sec.Flags&elf.SHF_EXECINSTR == 0 {
			continue // subprograms, not programs
		}
		if findProgram(spec, s.Name) != nil {
			cands = append(cands, cand{s.Section, s.Value, s.Name})
		}
	}
	if len(cands) == 0 {
		return ""
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].sec != cands[j].sec {
			return cands[i].sec < cands[j].sec
		}
		return cands[i].off < cands[j].off
	})
	return cands[0].name
}
