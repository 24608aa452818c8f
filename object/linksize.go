package object

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// Linking copies every function a program calls into the program, so an
// object's instructions can multiply: two hundred programs that each call
// one 100,000-instruction function in .text made a 0.8 MB object cost
// 2.5 GB. checkLinkedCode bounds what linking can produce before
// cilium/ebpf's reader links anything.
const (
	// maxProgramCode bounds one linked program: Linux's BPF_MAXINSNS for
	// privileged loaders, one million instructions.
	maxProgramCode = 1 << 20 * 8
	// maxLinkedCode bounds the linked programs of an object together.
	maxLinkedCode = 4 << 20 * 8
)

// checkLinkedCode estimates from above the instructions of every linked
// program: a program in section S can reach the code of S and of every
// executable section a relocation of S (or of a section S reaches) points
// into. entries gives the number of programs of each executable section
// (.text has none: its functions are only called). syms is the symbol
// table.
func (img *elfImage) checkLinkedCode(entries map[int]int, syms []elfSym) error {
	isCode := func(i int) bool {
		s := &img.sections[i]
		return s.typ == elf.SHT_PROGBITS && s.flags&elf.SHF_EXECINSTR != 0
	}
	succ := map[int][]int{}
	for i := range img.sections {
		rel := &img.sections[i]
		if rel.typ != elf.SHT_REL || int(rel.info) >= len(img.sections) || !isCode(int(rel.info)) {
			continue
		}
		data, err := img.readSection(i, maxSectionSize)
		if err != nil {
			return err
		}
		seen := map[int]bool{}
		for off := 0; off+elfRelSize <= len(data); off += elfRelSize {
			sym := binary.LittleEndian.Uint64(data[off+8:]) >> 32
			if sym >= uint64(len(syms)) {
				continue // the reader reports it
			}
			t := int(syms[sym].shndx)
			if t < len(img.sections) && t != int(rel.info) && isCode(t) && !seen[t] {
				seen[t] = true
				succ[int(rel.info)] = append(succ[int(rel.info)], t)
			}
		}
	}
	// reach[S]: the code of S plus what its successors reach, counting
	// shared callees once per path (an over-estimate) and any cycle as
	// all the code there is; saturated at maxLinkedCode+1.
	var total uint64
	for i := range img.sections {
		if isCode(i) {
			total += img.sections[i].size
		}
	}
	const (
		unvisited = iota
		active
		done
	)
	state := map[int]int{}
	reach := map[int]uint64{}
	type frame struct{ s, next int }
	var stack []frame
	visit := func(root int) {
		stack = append(stack[:0], frame{root, 0})
		state[root] = active
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.next < len(succ[f.s]) {
				t := succ[f.s][f.next]
				f.next++
				switch state[t] {
				case unvisited:
					state[t] = active
					stack = append(stack, frame{t, 0})
				case active:
					reach[f.s] = total // a cycle: bound it by everything
				}
				continue
			}
			r := reach[f.s] + img.sections[f.s].size
			for _, t := range succ[f.s] {
				if state[t] == done {
					r += reach[t]
				} else {
					r += total
				}
			}
			reach[f.s] = min(r, maxLinkedCode+1)
			state[f.s] = done
			stack = stack[:len(stack)-1]
		}
	}
	// The reader decodes every function symbol on its own, and symbols may
	// overlap: bound the bytes they cover together.
	var decoded uint64
	for i := range syms {
		s := &syms[i]
		if int(s.shndx) >= len(img.sections) || !isCode(int(s.shndx)) || s.name == "" ||
			(s.typ() != elf.STT_FUNC && (s.typ() != elf.STT_NOTYPE || s.bind() == elf.STB_LOCAL)) {
			continue
		}
		if decoded += min(s.size, img.sections[s.shndx].size); decoded > maxLinkedCode {
			return fmt.Errorf("%w: function symbols cover more than the limit of %d instructions together",
				ErrInvalidObject, maxLinkedCode/8)
		}
	}
	var linked uint64
	for s, n := range entries {
		if state[s] == unvisited {
			visit(s)
		}
		if reach[s] > maxProgramCode {
			return fmt.Errorf("%w: section %q: its programs would link to more than %d instructions, limit %d",
				ErrInvalidObject, img.sections[s].name, reach[s]/8, maxProgramCode/8)
		}
		linked = min(linked+uint64(n)*reach[s], maxLinkedCode+1)
	}
	if linked > maxLinkedCode {
		return fmt.Errorf("%w: programs would link to more than the limit of %d instructions together",
			ErrInvalidObject, maxLinkedCode/8)
	}
	return nil
}
