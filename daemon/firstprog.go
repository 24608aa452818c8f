package daemon

import (
	"bytes"
	"debug/elf"
	"sort"
	"strings"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/daemon/api"
)

// firstProgram is the program "bpftool prog load" pins: libbpf's first,
// in the object's order (programOrder), not the first by name as the spec
// lists them. "" if the ELF says nothing the spec knows (the caller then
// takes the spec's first).
func firstProgram(object []byte, spec *bpfhost.CollectionSpec) string {
	if order := programOrder(object, spec, false); len(order) > 0 {
		return order[0]
	}
	return ""
}

// programOrder lists the object's programs in libbpf's order, which
// Linux's IDs of what "bpftool prog loadall" loads follow: by section,
// then by offset in it. With all, the spec's programs the ELF does not
// place follow, by name; without, they are left out.
func programOrder(object []byte, spec *bpfhost.CollectionSpec, all bool) []string {
	type cand struct {
		sec  elf.SectionIndex
		off  uint64
		name string
	}
	var cands []cand
	if f, err := elf.NewFile(bytes.NewReader(object)); err == nil {
		defer f.Close()
		syms, _ := f.Symbols()
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
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].sec != cands[j].sec {
			return cands[i].sec < cands[j].sec
		}
		return cands[i].off < cands[j].off
	})
	var out []string
	seen := map[string]bool{}
	for _, c := range cands {
		if !seen[c.name] {
			seen[c.name] = true
			out = append(out, c.name)
		}
	}
	if all {
		for _, ps := range spec.Programs {
			if !seen[ps.Name] {
				out = append(out, ps.Name)
			}
		}
	}
	return out
}

// mapPinName is the name a map is pinned under in a pinmaps directory: as
// libbpf pins an object's maps, by their names (libbpfMapName) with dots
// as underscores ("config_rodata"); without the object's name, the map's
// name.
func mapPinName(object, name string) string {
	if !strings.HasPrefix(name, ".") || object == "" {
		return name
	}
	return strings.ReplaceAll(libbpfMapName(object, name), ".", "_")
}

// flagMmapable is BPF_F_MMAPABLE, which libbpf sets on the maps of global
// data sections (bpfhost's are in memory files another process may map).
const flagMmapable = 1 << 10

// objNameLen is BPF_OBJ_NAME_LEN: the kernel keeps 15 characters of a name
// and its NUL.
const objNameLen = 16

// libbpfMapName is the name libbpf gives the map of a global data section
// (name starts with a dot): the object's name cut to leave room for at
// least 7 characters of section name within 15 ("config.rodata",
// "dispatch.rodata"), so that every data map of an object has the same
// prefix; a custom section with a second dot (".data.counters") keeps no
// prefix. Without the object's name it is the section's name. Other maps
// keep their names, cut to 15 characters as the kernel keeps them
// ("a_very_long_map").
func libbpfMapName(object, name string) string {
	if !strings.HasPrefix(name, ".") || object == "" {
		return name[:min(len(name), objNameLen-1)]
	}
	sfx := min(max(7, len(name)), objNameLen-1)
	pfx := 0
	if !strings.Contains(name[1:], ".") {
		pfx = min(objNameLen-1-sfx, len(object))
	}
	out := []byte(object[:pfx] + name[:min(len(name), sfx)])
	for i, c := range out {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			out[i] = '_'
		}
	}
	return string(out)
}

// checkAutoload refuses to pin programs of names whose autoload is off (a
// section whose name begins with "?"), as bpftool's "prog load" and "prog
// loadall" do: libbpf does not load such a program, so pinning it fails
// ("can't pin program that wasn't loaded") and nothing stays loaded
// (docs/decisions/0042-autoload.md). A program a LoadRequest names is
// loaded whatever its autoload: naming it asks for it.
func checkAutoload(spec *bpfhost.CollectionSpec, names []string) error {
	for _, n := range names {
		if ps := findProgram(spec, n); ps != nil && ps.NoAutoload {
			return errorf(api.CodeInvalid, "program %q: SEC(%q) turns its autoload off (as libbpf): it is not loaded, so it cannot be pinned (bpftool refuses it too)", n, "?"+ps.Section)
		}
	}
	return nil
}
