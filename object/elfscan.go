package object

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Limits on what an object may make the loader allocate. Every size read
// from the file is checked against one of them before anything of that size
// is allocated or decompressed: cilium/ebpf's ELF reader and debug/elf read
// whole sections, decompressing SHF_COMPRESSED ones to the size their header
// claims, so a 133 KB file could otherwise claim a 4 GiB .data section.
const (
	// maxObjectSize bounds the file itself.
	maxObjectSize = 256 << 20
	// maxSections bounds the number of section headers.
	maxSections = 1 << 16
	// maxSectionSize bounds, uncompressed, every section the loader reads
	// that no tighter limit below covers (maps, .maps, string tables).
	maxSectionSize = 64 << 20
	// maxCodeSize bounds the instructions of all executable sections
	// together: two million instructions, twice what Linux verifies for one
	// program (BPF_COMPLEXITY_LIMIT_INSNS).
	maxCodeSize = 16 << 20
	// maxDataSize bounds a global data section (.data*, .rodata*, .bss*):
	// it becomes the value of a one-entry array map, and Linux refuses
	// array values above KMALLOC_MAX_SIZE (4 MiB on x86-64 and arm64).
	maxDataSize = 4 << 20
	// maxTotalData bounds the global data sections together, and the
	// variables in them: the reader copies each variable's bytes out of its
	// section, and symbols may overlap.
	maxTotalData = 64 << 20
	// maxMetadataSize bounds the license and version sections.
	maxMetadataSize = 4 << 10
	// maxSymbols bounds the symbol table.
	maxSymbols = 1 << 20
	// maxNameBytes bounds the bytes of all section and symbol names
	// together: debug/elf copies each name out of its string table.
	maxNameBytes = 64 << 20
	// maxRelocations bounds the relocation entries of the sections the
	// loader reads (debug sections excluded).
	maxRelocations = 1 << 20
)

// ELF constants debug/elf does not name or that must not depend on it.
const (
	elfHeaderSize  = 64
	elfSectionSize = 64
	elfChdrSize    = 24
	elfSymSize     = 24
	elfRelSize     = 16
	shnXIndex      = 0xffff
	shfCompressed  = 0x800
)

// elfSection is a section header as the checks need it; size is the
// uncompressed size (the compression header's ch_size for SHF_COMPRESSED
// sections).
type elfSection struct {
	name             string
	typ              elf.SectionType
	flags            elf.SectionFlag
	offset, fileSize uint64
	size             uint64
	link, info       uint32
	compressed       bool
}

// elfImage is an object file read into memory with its section headers
// parsed and checked.
type elfImage struct {
	data     []byte
	sections []elfSection
	// file is debug/elf's view of data, opened only after the checks made
	// it safe to; it decompresses sections.
	file *elf.File
}

// readObject reads all of r, at most maxObjectSize bytes.
func readObject(r io.ReaderAt) ([]byte, error) {
	data, err := io.ReadAll(io.NewSectionReader(r, 0, maxObjectSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidObject, err)
	}
	if len(data) > maxObjectSize {
		return nil, fmt.Errorf("%w: object larger than %d bytes", ErrInvalidObject, maxObjectSize)
	}
	return data, nil
}

// scanELF parses the ELF and section headers of data and checks every size
// that drives an allocation in the parsers that run after it: section
// counts and sizes (compressed ones by the size they claim), names, the
// symbol table, relocations and BTF.
func scanELF(data []byte) (*elfImage, error) {
	img := &elfImage{data: data}
	if err := img.parseHeaders(); err != nil {
		return nil, err
	}
	if err := img.checkSections(); err != nil {
		return nil, err
	}
	var err error
	if img.file, err = openELF(data); err != nil {
		return nil, err
	}
	if err := img.checkSymbols(); err != nil {
		return nil, err
	}
	if err := img.checkBTF(); err != nil {
		return nil, err
	}
	return img, nil
}

// openELF runs debug/elf on data, turning a panic into an error.
func openELF(data []byte) (*elf.File, error) {
	return openELFReader(bytes.NewReader(data))
}

// openELFReader runs debug/elf on r, whose headers parseHeadersFrom has
// checked (debug/elf reads the section name table whole), turning a panic
// into an error.
func openELFReader(r io.ReaderAt) (f *elf.File, err error) {
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, fmt.Errorf("%w: ELF parser panicked: %v", ErrInvalidObject, p)
		}
	}()
	f, err = elf.NewFile(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidObject, err)
	}
	return f, nil
}

func (img *elfImage) parseHeaders() error {
	return img.parseHeadersFrom(bytesSource(img.data))
}

// parseHeadersFrom reads the ELF header, the section headers and the
// section names from src.
func (img *elfImage) parseHeadersFrom(src elfSource) error {
	size := src.size()
	d, err := src.at(0, min(elfHeaderSize, size))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidObject, err)
	}
	if len(d) < 4 || !bytes.Equal(d[:4], []byte(elf.ELFMAG)) {
		return fmt.Errorf("%w: not an ELF file", ErrInvalidObject)
	}
	if len(d) < 16 {
		return fmt.Errorf("%w: truncated ELF file: it ends inside the ELF header", ErrInvalidObject)
	}
	switch elf.Class(d[elf.EI_CLASS]) {
	case elf.ELFCLASS64:
	case elf.ELFCLASS32:
		return fmt.Errorf("32-bit ELF object: %w (eBPF objects are ELF64)", ErrNotSupported)
	default:
		return fmt.Errorf("%w: ELF class %d", ErrInvalidObject, d[elf.EI_CLASS])
	}
	switch elf.Data(d[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
	case elf.ELFDATA2MSB:
		return fmt.Errorf("big-endian object: %w", ErrNotSupported)
	default:
		return fmt.Errorf("%w: ELF data encoding %d", ErrInvalidObject, d[elf.EI_DATA])
	}
	if len(d) < elfHeaderSize {
		return fmt.Errorf("%w: truncated ELF file: it ends inside the ELF header", ErrInvalidObject)
	}
	le := binary.LittleEndian
	shoff := le.Uint64(d[40:])
	shentsize := le.Uint16(d[58:])
	shnum := uint64(le.Uint16(d[60:]))
	shstrndx := uint32(le.Uint16(d[62:]))
	if shoff == 0 {
		if shnum != 0 {
			return fmt.Errorf("%w: %d section headers at offset 0", ErrInvalidObject, shnum)
		}
		return nil
	}
	if shentsize != elfSectionSize {
		return fmt.Errorf("%w: section header size %d, want %d", ErrInvalidObject, shentsize, elfSectionSize)
	}
	if shoff > size || size-shoff < elfSectionSize {
		return fmt.Errorf("%w: truncated ELF file: section headers at offset %d outside the %d-byte file", ErrInvalidObject, shoff, size)
	}
	// Extended numbering: section 0 holds the real count and name index.
	sh0, err := src.at(shoff, elfSectionSize)
	if err != nil {
		return fmt.Errorf("%w: section headers: %w", ErrInvalidObject, err)
	}
	if shnum == 0 {
		shnum = le.Uint64(sh0[32:])
	}
	if shstrndx == shnXIndex {
		shstrndx = le.Uint32(sh0[40:])
	}
	if shnum > maxSections {
		return fmt.Errorf("%w: %d sections, limit %d", ErrInvalidObject, shnum, maxSections)
	}
	if (size-shoff)/elfSectionSize < shnum {
		return fmt.Errorf("%w: truncated ELF file: %d section headers at offset %d do not fit in the %d-byte file", ErrInvalidObject, shnum, shoff, size)
	}
	table, err := src.at(shoff, shnum*elfSectionSize)
	if err != nil {
		return fmt.Errorf("%w: section headers: %w", ErrInvalidObject, err)
	}
	img.sections = make([]elfSection, shnum)
	nameOffs := make([]uint32, shnum)
	for i := range img.sections {
		h := table[uint64(i)*elfSectionSize:]
		s := &img.sections[i]
		nameOffs[i] = le.Uint32(h)
		s.typ = elf.SectionType(le.Uint32(h[4:]))
		s.flags = elf.SectionFlag(le.Uint64(h[8:]))
		s.offset, s.fileSize = le.Uint64(h[24:]), le.Uint64(h[32:])
		s.link, s.info = le.Uint32(h[40:]), le.Uint32(h[44:])
		s.size = s.fileSize
		if s.typ == elf.SHT_NOBITS || s.typ == elf.SHT_NULL {
			continue
		}
		if s.offset > size || size-s.offset < s.fileSize {
			return fmt.Errorf("%w: truncated ELF file: section %d: bytes [%d, +%d) outside the %d-byte file", ErrInvalidObject, i, s.offset, s.fileSize, size)
		}
		if s.flags&shfCompressed != 0 {
			if s.fileSize < elfChdrSize {
				return fmt.Errorf("%w: section %d: compressed section without a compression header", ErrInvalidObject, i)
			}
			ch, err := src.at(s.offset, elfChdrSize)
			if err != nil {
				return fmt.Errorf("%w: section %d: compression header: %w", ErrInvalidObject, i, err)
			}
			if t := elf.CompressionType(le.Uint32(ch)); t != elf.COMPRESS_ZLIB && t != elf.COMPRESS_ZSTD {
				return fmt.Errorf("%w: section %d: compression type %d", ErrInvalidObject, i, t)
			}
			s.compressed, s.size = true, le.Uint64(ch[8:])
		}
	}
	if shnum == 0 || shstrndx == 0 {
		return nil
	}
	if uint64(shstrndx) >= shnum {
		return fmt.Errorf("%w: section name table index %d, %d sections", ErrInvalidObject, shstrndx, shnum)
	}
	strtab := &img.sections[shstrndx]
	if strtab.typ != elf.SHT_STRTAB {
		return fmt.Errorf("%w: section name table %d is of type %v", ErrInvalidObject, shstrndx, strtab.typ)
	}
	if strtab.compressed {
		return fmt.Errorf("compressed section name table: %w", ErrNotSupported)
	}
	if strtab.size > maxSectionSize {
		return fmt.Errorf("%w: section name table of %d bytes, limit %d", ErrInvalidObject, strtab.size, maxSectionSize)
	}
	strs, err := src.at(strtab.offset, strtab.size)
	if err != nil {
		return fmt.Errorf("%w: section names: %w", ErrInvalidObject, err)
	}
	names, err := stringsAt(strs, nameOffs, maxNameBytes)
	if err != nil {
		return fmt.Errorf("%w: section names: %w", ErrInvalidObject, err)
	}
	for i := range img.sections {
		img.sections[i].name = names[i]
	}
	return nil
}

// elfSource gives parseHeadersFrom the bytes of a file: the whole file
// in memory, or read on demand (LoadTargetBTF, whose input may be a vmlinux
// of hundreds of MiB of which it needs .BTF only).
type elfSource interface {
	size() uint64
	// at returns n bytes at off; callers bound n.
	at(off, n uint64) ([]byte, error)
}

type bytesSource []byte

func (b bytesSource) size() uint64 { return uint64(len(b)) }

func (b bytesSource) at(off, n uint64) ([]byte, error) {
	if off > uint64(len(b)) || uint64(len(b))-off < n {
		return nil, io.ErrUnexpectedEOF
	}
	return b[off : off+n], nil
}

// readerSource reads on demand; its size is unknown, so reads past the
// end fail instead of the range checks.
type readerSource struct{ r io.ReaderAt }

func (readerSource) size() uint64 { return 1 << 62 }

func (s readerSource) at(off, n uint64) ([]byte, error) {
	if off > 1<<62 || n > 1<<62 {
		return nil, io.ErrUnexpectedEOF
	}
	// Read through a growing buffer, so that a size claimed near the end
	// of a short input does not allocate it.
	buf, err := io.ReadAll(io.NewSectionReader(s.r, int64(off), int64(n)))
	if err != nil {
		return nil, err
	}
	if uint64(len(buf)) != n {
		return nil, io.ErrUnexpectedEOF
	}
	return buf, nil
}

// stringsAt returns the NUL-terminated strings of an ELF string table at
// the given offsets. It fails if one is out of range or unterminated, or if
// they total more than limit bytes. It takes time linear in the table and
// n log n in the offsets, however many offsets share a long string.
func stringsAt(table []byte, offs []uint32, limit int) ([]string, error) {
	order := make([]int32, len(offs))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return int(offs[a]) - int(offs[b]) })
	lens := make([]int, len(offs))
	end, total := -1, 0 // end: the first NUL at or after the current offset
	for _, i := range order {
		o := int(offs[i])
		if o >= len(table) {
			return nil, fmt.Errorf("name offset %d outside the %d-byte string table", o, len(table))
		}
		if end < o {
			j := bytes.IndexByte(table[o:], 0)
			if j < 0 {
				return nil, fmt.Errorf("name at offset %d is not NUL-terminated", o)
			}
			end = o + j
		}
		lens[i] = end - o
		if total += lens[i]; total > limit {
			return nil, fmt.Errorf("names total more than %d bytes", limit)
		}
	}
	out := make([]string, len(offs))
	for i, o := range offs {
		out[i] = string(table[o : int(o)+lens[i]])
	}
	return out, nil
}

// readSection returns the contents of section i, decompressed, after
// checking them against limit.
func (img *elfImage) readSection(i int, limit uint64) ([]byte, error) {
	s := &img.sections[i]
	if s.size > limit {
		return nil, fmt.Errorf("%w: section %q: %d bytes, limit %d", ErrInvalidObject, s.name, s.size, limit)
	}
	if s.typ == elf.SHT_NOBITS {
		return nil, nil
	}
	if !s.compressed {
		return img.data[s.offset : s.offset+s.size], nil
	}
	buf := make([]byte, s.size)
	if _, err := io.ReadFull(io.LimitReader(img.file.Sections[i].Open(), int64(s.size)), buf); err != nil {
		return nil, fmt.Errorf("%w: section %q: decompressing: %w", ErrInvalidObject, s.name, err)
	}
	return buf, nil
}

// checkSections checks the size of every section the loader reads against
// its limit, the same way whether it is compressed or not.
func (img *elfImage) checkSections() error {
	var code, relocs, data uint64
	for i := range img.sections {
		s := &img.sections[i]
		limit := uint64(0)
		switch name := s.name; {
		case strings.HasPrefix(name, "license"), strings.HasPrefix(name, "version"):
			limit = maxMetadataSize
		case isDataSectionName(name):
			limit = maxDataSize
			data += s.size
		case name == ".BTF" || name == ".BTF.ext":
			limit = maxBTFSize
		case strings.HasPrefix(name, "maps"), name == ".maps", s.typ == elf.SHT_STRTAB:
			limit = maxSectionSize
		case s.typ == elf.SHT_SYMTAB:
			limit = maxSymbols * elfSymSize
		case s.typ == elf.SHT_REL:
			if int(s.info) < len(img.sections) && strings.HasPrefix(img.sections[s.info].name, ".debug") {
				continue // debug information is never read
			}
			limit = maxSectionSize
			relocs += s.size / elfRelSize
		case s.typ == elf.SHT_PROGBITS && s.flags&elf.SHF_EXECINSTR != 0:
			limit = maxCodeSize
			code += s.size
		case s.typ == elf.SHT_PROGBITS && !strings.HasPrefix(name, ".debug"):
			limit = maxSectionSize
		default:
			continue
		}
		if s.size > limit {
			what := "bytes"
			if s.compressed {
				what = "bytes uncompressed"
			}
			return fmt.Errorf("%w: section %q: %d %s, limit %d", ErrInvalidObject, s.name, s.size, what, limit)
		}
	}
	if code > maxCodeSize {
		return fmt.Errorf("%w: %d bytes of instructions, limit %d", ErrInvalidObject, code, maxCodeSize)
	}
	if data > maxTotalData {
		return fmt.Errorf("%w: %d bytes of global data sections, limit %d", ErrInvalidObject, data, maxTotalData)
	}
	if relocs > maxRelocations {
		return fmt.Errorf("%w: %d relocations, limit %d", ErrInvalidObject, relocs, maxRelocations)
	}
	return nil
}

// isDataSectionName reports whether cilium/ebpf's reader makes a section a
// global data map.
func isDataSectionName(name string) bool {
	return name == ".bss" || strings.HasPrefix(name, ".data") || strings.HasPrefix(name, ".rodata")
}

// checkSymbols bounds the symbol table and the names debug/elf will copy
// out of its string table.
func (img *elfImage) checkSymbols() error {
	for i := range img.sections {
		s := &img.sections[i]
		if s.typ != elf.SHT_SYMTAB {
			continue
		}
		syms, err := img.readSection(i, maxSymbols*elfSymSize)
		if err != nil {
			return err
		}
		if int(s.link) >= len(img.sections) || img.sections[s.link].typ != elf.SHT_STRTAB {
			return fmt.Errorf("%w: symbol table %q: string table link %d", ErrInvalidObject, s.name, s.link)
		}
		strs, err := img.readSection(int(s.link), maxSectionSize)
		if err != nil {
			return err
		}
		n := len(syms) / elfSymSize
		offs := make([]uint32, 0, n)
		for j := 0; j < n; j++ {
			if o := binary.LittleEndian.Uint32(syms[j*elfSymSize:]); int(o) < len(strs) {
				// debug/elf gives out-of-range names as "".
				offs = append(offs, o)
			}
		}
		if _, err := stringLengthsWithin(strs, offs, maxNameBytes); err != nil {
			return fmt.Errorf("%w: symbol names: %w", ErrInvalidObject, err)
		}
	}
	return nil
}

// stringLengthsWithin checks that the strings at offs total at most limit
// bytes, counting unterminated ones (debug/elf gives those as "") as empty.
func stringLengthsWithin(table []byte, offs []uint32, limit int) (int, error) {
	slices.Sort(offs)
	end, total := -1, 0
	for _, o32 := range offs {
		o := int(o32)
		if end < o {
			j := bytes.IndexByte(table[o:], 0)
			if j < 0 {
				break // this and all later offsets are unterminated
			}
			end = o + j
		}
		if total += end - o; total > limit {
			return total, fmt.Errorf("names total more than %d bytes", limit)
		}
	}
	return total, nil
}

// checkBTF checks the .BTF section, if any, with checkRawBTF before
// cilium/ebpf's recursive parser sees it, and the strings .BTF.ext refers
// to.
func (img *elfImage) checkBTF() error {
	btfIdx, extIdx := -1, -1
	for i := range img.sections {
		switch img.sections[i].name {
		case ".BTF":
			btfIdx = i
		case ".BTF.ext":
			extIdx = i
		}
	}
	if btfIdx < 0 {
		return nil
	}
	raw, err := img.readSection(btfIdx, maxBTFSize)
	if err != nil {
		return err
	}
	if err := checkRawBTF(raw); err != nil {
		return fmt.Errorf("section .BTF: %w", err)
	}
	if extIdx < 0 || len(raw) < 24 || binary.LittleEndian.Uint16(raw) != 0xeb9f {
		return nil
	}
	strs, err := btfStrings(raw, binary.LittleEndian)
	if err != nil {
		return fmt.Errorf("section .BTF: %w", err)
	}
	ext, err := img.readSection(extIdx, maxBTFSize)
	if err != nil {
		return err
	}
	return checkBTFExt(ext, strs)
}
