package object

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// Objects built by older toolchains, Linux's samples/bpf and iproute2 leave
// out what cilium/ebpf's reader needs: map symbols of size 0 in a legacy
// "maps" section, functions without a symbol of type STT_FUNC, with size 0
// or without any symbol, SHT_RELA relocations. Newer objects may hold what
// the reader refuses although libbpf loads it: weak undefined externs
// (__kconfig __weak). normalizeLegacy rewrites the in-memory image so that the reader sees what newer compilers emit, the way
// libbpf and iproute2 interpret those objects, and returns what the map
// conversion needs to read the definitions' extra fields.

// legacyMapSection describes one legacy map section: the size of each
// definition and the maps in the order of their definitions.
type legacyMapSection struct {
	name    string
	defSize uint64
	maps    []string
}

// legacyInfo is what normalizeLegacy learned about an object.
type legacyInfo struct {
	mapSections []*legacyMapSection
	// btfNumaNodes are the numa_node values of BTF map definitions, by
	// map name (btfnuma.go).
	btfNumaNodes map[string]uint32
	// weakExterns are the names of the weak undefined symbols (__ksym
	// __weak, __kconfig __weak), which the rewrite makes global.
	weakExterns map[string]bool
}

// elfSym is a symbol table entry and its index.
type elfSym struct {
	index       int
	name        string
	info        byte
	shndx       uint16
	value, size uint64
}

func (s *elfSym) typ() elf.SymType  { return elf.ST_TYPE(s.info) }
func (s *elfSym) bind() elf.SymBind { return elf.ST_BIND(s.info) }

// normalizeLegacy rewrites img.data as described above. It runs after
// scanELF accepted the image.
func normalizeLegacy(img *elfImage) (*legacyInfo, error) {
	info := &legacyInfo{}
	if err := img.convertRela(); err != nil {
		return nil, err
	}
	img.patchBTFMapTypedefs()
	info.btfNumaNodes = img.patchBTFMapNumaNodes()
	symtab := -1
	for i := range img.sections {
		if img.sections[i].typ == elf.SHT_SYMTAB {
			symtab = i
			break
		}
	}
	if symtab < 0 {
		return info, nil
	}
	if img.sections[symtab].compressed || img.sections[int(img.sections[symtab].link)].compressed {
		return nil, fmt.Errorf("compressed symbol table: %w", ErrNotSupported)
	}
	syms, err := img.symbols(symtab)
	if err != nil {
		return nil, err
	}
	// Symbols by section.
	bySection := make(map[uint16][]*elfSym)
	for i := range syms {
		s := &syms[i]
		if s.shndx == uint16(elf.SHN_UNDEF) && s.name != "" && s.bind() == elf.STB_WEAK {
			// A weak extern (__kconfig __weak, __ksym __weak) is one
			// libbpf may leave unresolved, reading it as zero. The
			// reader refuses weak __kconfig references; bound as
			// global it reads them, and the meaning is kept: the
			// runtime fills no kernel configuration in, so every
			// __kconfig value reads as zero, as a missing weak one
			// does in libbpf.
			s.info = byte(elf.STB_GLOBAL)<<4 | byte(s.typ())
			img.putSymbol(symtab, s)
			if info.weakExterns == nil {
				info.weakExterns = map[string]bool{}
			}
			info.weakExterns[s.name] = true
		}
		if s.bind() == elf.STB_WEAK && s.name != "" && int(s.shndx) < len(img.sections) && s.shndx != uint16(elf.SHN_UNDEF) {
			if name := img.sections[s.shndx].name; name == ".maps" || strings.HasPrefix(name, "maps") {
				// A weak map definition (libbpf's usdt.bpf.h declares its
				// maps __weak so that several objects can link): in one
				// object it is the only definition, as a global one is.
				// The reader refuses weak map symbols.
				s.info = byte(elf.STB_GLOBAL)<<4 | byte(s.typ())
				img.putSymbol(symtab, s)
			}
		}
		if s.name == "" || s.typ() == elf.STT_SECTION || s.typ() == elf.STT_FILE {
			continue
		}
		bySection[s.shndx] = append(bySection[s.shndx], s)
	}
	var missing []elfSym     // functions without a symbol, added at the end
	entries := map[int]int{} // functions per executable section
	for i := range img.sections {
		sec := &img.sections[i]
		switch {
		case strings.HasPrefix(sec.name, "maps"):
			ms, err := img.sizeMapSymbols(sec, bySection[uint16(i)])
			if err != nil {
				return nil, err
			}
			if ms != nil {
				info.mapSections = append(info.mapSections, ms)
			}
		case sec.typ == elf.SHT_PROGBITS && sec.flags&elf.SHF_EXECINSTR != 0 && sec.size > 0 &&
			!isSpecialName(sec.name):
			n := img.sizeFunctionSymbols(sec, bySection[uint16(i)])
			if sec.name == ".text" {
				continue // functions only called, never programs of their own
			}
			entries[i] = n
			if n == 0 {
				entries[i] = 1
				missing = append(missing, elfSym{
					name: sec.name, info: byte(elf.STB_GLOBAL)<<4 | byte(elf.STT_FUNC),
					shndx: uint16(i), size: sec.size,
				})
			}
		}
	}
	if len(missing) > 0 {
		if err := img.appendSymbols(symtab, missing); err != nil {
			return nil, err
		}
	}
	if err := img.checkLinkedCode(entries, syms); err != nil {
		return nil, err
	}
	if err := img.checkVariables(syms); err != nil {
		return nil, err
	}
	return info, nil
}

// checkVariables bounds the bytes the reader copies for the symbols of
// global data sections (each variable's value is cloned; symbols may
// overlap).
func (img *elfImage) checkVariables(syms []elfSym) error {
	var total uint64
	for i := range syms {
		s := &syms[i]
		if int(s.shndx) >= len(img.sections) || !isDataSectionName(img.sections[s.shndx].name) {
			continue
		}
		if total += min(s.size, img.sections[s.shndx].size); total > maxTotalData {
			return fmt.Errorf("%w: symbols of global data sections cover more than %d bytes together", ErrInvalidObject, maxTotalData)
		}
	}
	return nil
}

// isSpecialName reports whether an executable section is one that cilium's
// reader classifies by name rather than as program code.
func isSpecialName(name string) bool {
	return strings.HasPrefix(name, "license") || strings.HasPrefix(name, "version") ||
		strings.HasPrefix(name, "maps") || name == ".maps"
}

// symbols reads the symbol table at index symtab; scanELF bounded it.
func (img *elfImage) symbols(symtab int) ([]elfSym, error) {
	s := &img.sections[symtab]
	data := img.data[s.offset : s.offset+s.size]
	strs := img.data[img.sections[s.link].offset : img.sections[s.link].offset+img.sections[s.link].size]
	le := binary.LittleEndian
	n := len(data) / elfSymSize
	syms := make([]elfSym, n)
	for i := range syms {
		e := data[i*elfSymSize:]
		syms[i] = elfSym{
			index: i, info: e[4], shndx: le.Uint16(e[6:]),
			value: le.Uint64(e[8:]), size: le.Uint64(e[16:]),
		}
		if o := le.Uint32(e); int(o) < len(strs) {
			if j := slices.Index(strs[o:], 0); j >= 0 {
				syms[i].name = string(strs[o : int(o)+j])
			}
		}
	}
	return syms, nil
}

// putSymbol writes a symbol's type, size and value back into the table.
func (img *elfImage) putSymbol(symtab int, s *elfSym) {
	e := img.data[img.sections[symtab].offset+uint64(s.index)*elfSymSize:]
	e[4] = s.info
	binary.LittleEndian.PutUint64(e[8:], s.value)
	binary.LittleEndian.PutUint64(e[16:], s.size)
}

// sizeMapSymbols gives the map symbols of a legacy maps section their
// definition size when the compiler left them at 0: the section divided
// evenly among its symbols, as libbpf and iproute2 do.
func (img *elfImage) sizeMapSymbols(sec *elfSection, syms []*elfSym) (*legacyMapSection, error) {
	var maps []*elfSym
	for _, s := range syms {
		if t := s.typ(); t == elf.STT_NOTYPE || t == elf.STT_OBJECT {
			maps = append(maps, s)
		}
	}
	if len(maps) == 0 || sec.typ == elf.SHT_NOBITS {
		return nil, nil
	}
	slices.SortFunc(maps, func(a, b *elfSym) int { return int(a.value) - int(b.value) })
	if sec.size%uint64(len(maps)) != 0 {
		return nil, fmt.Errorf("%w: section %q: %d map symbols do not divide its %d bytes into definitions of one size",
			ErrInvalidObject, sec.name, len(maps), sec.size)
	}
	defSize := sec.size / uint64(len(maps))
	if defSize < 20 {
		return nil, fmt.Errorf("%w: section %q: map definitions of %d bytes, want at least 20 (type, key size, value size, max entries, flags)",
			ErrInvalidObject, sec.name, defSize)
	}
	ms := &legacyMapSection{name: sec.name, defSize: defSize}
	symtab := img.symtabIndex()
	for i, s := range maps {
		if s.value != uint64(i)*defSize {
			return nil, fmt.Errorf("%w: section %q: map %q at offset %d, want %d for definitions of %d bytes",
				ErrInvalidObject, sec.name, s.name, s.value, uint64(i)*defSize, defSize)
		}
		if s.size != 0 && s.size != defSize {
			return nil, fmt.Errorf("%w: section %q: map %q is %d bytes, the others %d",
				ErrInvalidObject, sec.name, s.name, s.size, defSize)
		}
		if s.size == 0 {
			s.size = defSize
			img.putSymbol(symtab, s)
		}
		ms.maps = append(ms.maps, s.name)
	}
	return ms, nil
}

func (img *elfImage) symtabIndex() int {
	for i := range img.sections {
		if img.sections[i].typ == elf.SHT_SYMTAB {
			return i
		}
	}
	return -1
}

// sizeFunctionSymbols makes the function symbols of an executable section
// STT_FUNC with the size up to the next function or the section's end, where
// the compiler left them untyped or of size 0. It returns the number of
// functions of the section, 0 when it has no function symbol at all.
func (img *elfImage) sizeFunctionSymbols(sec *elfSection, syms []*elfSym) int {
	var funcs []*elfSym
	for _, s := range syms {
		switch {
		case s.typ() == elf.STT_FUNC:
		case s.typ() == elf.STT_NOTYPE && s.bind() != elf.STB_LOCAL:
		default:
			continue // local labels (LBB0_3) and the like
		}
		if s.value < sec.size {
			funcs = append(funcs, s)
		}
	}
	if len(funcs) == 0 {
		return 0
	}
	slices.SortFunc(funcs, func(a, b *elfSym) int { return int(a.value) - int(b.value) })
	symtab := img.symtabIndex()
	for i, s := range funcs {
		if s.size != 0 && s.typ() == elf.STT_FUNC {
			continue
		}
		end := sec.size
		if i+1 < len(funcs) {
			end = funcs[i+1].value
		}
		if s.size == 0 {
			s.size = end - s.value
		}
		s.info = byte(s.bind())<<4 | byte(elf.STT_FUNC)
		img.putSymbol(symtab, s)
	}
	return len(funcs)
}

// appendSymbols adds global function symbols at the end of the symbol
// table, for sections whose code has none (Open vSwitch's datapath). The
// table and its string table are copied to the end of the image, so that
// symbol indices relocations refer to stay valid.
func (img *elfImage) appendSymbols(symtab int, add []elfSym) error {
	st := &img.sections[symtab]
	strSec := &img.sections[st.link]
	strs := slices.Clone(img.data[strSec.offset : strSec.offset+strSec.size])
	table := slices.Clone(img.data[st.offset : st.offset+st.size])
	le := binary.LittleEndian
	for _, s := range add {
		e := make([]byte, elfSymSize)
		le.PutUint32(e, uint32(len(strs)))
		strs = append(append(strs, s.name...), 0)
		e[4] = s.info
		le.PutUint16(e[6:], s.shndx)
		le.PutUint64(e[8:], s.value)
		le.PutUint64(e[16:], s.size)
		table = append(table, e...)
	}
	if uint64(len(table)) > maxSymbols*elfSymSize || len(strs) > maxSectionSize {
		return fmt.Errorf("%w: symbol table over its limit", ErrInvalidObject)
	}
	img.relocateSection(int(st.link), strs)
	img.relocateSection(symtab, table)
	return nil
}

// relocateSection appends new contents for section i at the end of the
// image (aligned to 8) and points its header at them. The section header
// table is where the ELF header says, before the appended bytes.
func (img *elfImage) relocateSection(i int, contents []byte) {
	for len(img.data)%8 != 0 {
		img.data = append(img.data, 0)
	}
	off := uint64(len(img.data))
	img.data = append(img.data, contents...)
	s := &img.sections[i]
	s.offset, s.fileSize, s.size = off, uint64(len(contents)), uint64(len(contents))
	h := img.sectionHeader(i)
	binary.LittleEndian.PutUint64(h[24:], off)
	binary.LittleEndian.PutUint64(h[32:], uint64(len(contents)))
}

// sectionHeader returns the bytes of section i's header.
func (img *elfImage) sectionHeader(i int) []byte {
	shoff := binary.LittleEndian.Uint64(img.data[40:])
	return img.data[shoff+uint64(i)*elfSectionSize : shoff+uint64(i+1)*elfSectionSize]
}

// convertRela turns SHT_RELA sections of code, map and data sections into
// SHT_REL ones, which is all cilium/ebpf's reader reads. eBPF relocations
// carry their addend in the instruction; a non-zero explicit addend is
// refused rather than dropped.
func (img *elfImage) convertRela() error {
	const relaSize = 24
	for i := range img.sections {
		s := &img.sections[i]
		if s.typ != elf.SHT_RELA || int(s.info) >= len(img.sections) {
			continue
		}
		target := &img.sections[s.info]
		if strings.HasPrefix(target.name, ".debug") || target.flags&elf.SHF_ALLOC == 0 ||
			target.name == ".eh_frame" {
			continue
		}
		if s.compressed {
			return fmt.Errorf("compressed relocation section %q: %w", s.name, ErrNotSupported)
		}
		data := img.data[s.offset : s.offset+s.size]
		n := len(data) / relaSize
		for j := 0; j < n; j++ {
			if a := binary.LittleEndian.Uint64(data[j*relaSize+16:]); a != 0 {
				return fmt.Errorf("relocation section %q: entry %d has addend %d: %w (eBPF relocations keep the addend in the instruction)",
					s.name, j, int64(a), ErrNotSupported)
			}
			copy(data[j*elfRelSize:], data[j*relaSize:j*relaSize+elfRelSize])
		}
		s.typ, s.size, s.fileSize = elf.SHT_REL, uint64(n*elfRelSize), uint64(n*elfRelSize)
		h := img.sectionHeader(i)
		binary.LittleEndian.PutUint32(h[4:], uint32(elf.SHT_REL))
		binary.LittleEndian.PutUint64(h[32:], s.size)
		binary.LittleEndian.PutUint64(h[56:], elfRelSize)
	}
	return nil
}
