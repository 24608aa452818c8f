package bpfhost

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/bpfhost/bpfhost/object"
)

// TextSection is the Section of the programs LoadCollectionSpecWithFunctions
// makes of the functions in ".text".
const TextSection = ".text"

// maxObjectSize bounds the object that LoadCollectionSpecWithFunctions reads
// into memory.
const maxObjectSize = 256 << 20

// LoadCollectionSpecWithFunctions parses an ELF object like
// LoadCollectionSpec, and also makes each function in ".text" a program of
// its own, with Section TextSection. libbpf and LoadCollectionSpec treat
// those functions as subprograms only, linked into the programs that call
// them; this makes them verifiable by name (as a kernel verifies a global
// function on its own). Their section names no program type: give one
// (CollectionOptions.ProgramTypes, --type NAME=TYPE).
func LoadCollectionSpecWithFunctions(path string) (*CollectionSpec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("object: %w", err)
	}
	defer f.Close()
	spec, err := loadWithFunctions(f)
	if err != nil {
		return nil, fmt.Errorf("object: %s: %w", path, err)
	}
	return spec, nil
}

// loadWithFunctions renames ".text" in a copy of the object to "text" (its
// section header points one byte further into the same string, and the BTF
// string that line and function records name it by is rewritten), so that the ELF reader, which exports
// programs of every executable section but ".text", exports them too.
func loadWithFunctions(r io.ReaderAt) (*CollectionSpec, error) {
	buf, err := io.ReadAll(io.NewSectionReader(r, 0, maxObjectSize+1))
	if err != nil {
		return nil, err
	}
	if len(buf) > maxObjectSize {
		return nil, fmt.Errorf("object larger than %d bytes", maxObjectSize)
	}
	renamed, err := renameText(buf)
	if err != nil {
		return nil, err
	}
	spec, err := object.LoadReader(bytes.NewReader(renamed))
	if err != nil {
		return nil, err
	}
	for _, p := range spec.Programs {
		if p.Section == TextSection[1:] {
			p.Section = TextSection
		}
	}
	return spec, nil
}

// renameText returns a copy of the little-endian ELF64 object buf whose
// ".text" section is named "text", in the section headers and in BTF.
func renameText(buf []byte) ([]byte, error) {
	f, err := elf.NewFile(bytes.NewReader(buf))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", object.ErrInvalidObject, err)
	}
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB {
		return nil, fmt.Errorf("%w: not a little-endian ELF64 object", object.ErrNotSupported)
	}
	out := bytes.Clone(buf)
	le := binary.LittleEndian
	shoff, shentsize := le.Uint64(out[0x28:]), uint64(le.Uint16(out[0x3a:]))
	found := false
	for i, s := range f.Sections {
		if s.Name != TextSection || s.Flags&elf.SHF_EXECINSTR == 0 {
			continue
		}
		at := shoff + uint64(i)*shentsize // sh_name is a header's first word
		if shentsize < 4 || at+4 > uint64(len(out)) {
			return nil, fmt.Errorf("%w: section header %d out of the file", object.ErrInvalidObject, i)
		}
		le.PutUint32(out[at:], le.Uint32(out[at:])+1)
		found = true
	}
	if !found {
		return nil, fmt.Errorf("%w: no %s section", object.ErrNotFound, TextSection)
	}
	if btfSec := f.Section(".BTF"); btfSec != nil && btfSec.Type != elf.SHT_NOBITS {
		if err := renameTextInBTF(out, btfSec); err != nil {
			return nil, fmt.Errorf("%w: .BTF: %w", object.ErrInvalidObject, err)
		}
	}
	return out, nil
}

// renameTextInBTF renames the string ".text" in the BTF string table, which
// the function, line and CO-RE records of .BTF.ext name their section by, to
// "text" in place: its last byte becomes an empty string of its own.
func renameTextInBTF(out []byte, btfSec *elf.Section) error {
	le := binary.LittleEndian
	if btfSec.Offset > uint64(len(out)) || btfSec.Size > uint64(len(out))-btfSec.Offset {
		return errors.New("section out of the file")
	}
	btf := out[btfSec.Offset : btfSec.Offset+btfSec.Size]
	if len(btf) < 24 || le.Uint16(btf) != 0xeb9f {
		return errors.New("bad header")
	}
	start := uint64(le.Uint32(btf[4:])) + uint64(le.Uint32(btf[16:]))
	n := uint64(le.Uint32(btf[20:]))
	if start > uint64(len(btf)) || n > uint64(len(btf))-start {
		return errors.New("string table out of the section")
	}
	strs := btf[start : start+n]
	for off := 0; off < len(strs); {
		end := bytes.IndexByte(strs[off:], 0)
		if end < 0 {
			break
		}
		if string(strs[off:off+end]) == TextSection {
			copy(strs[off:], TextSection[1:]+"\x00")
		}
		off += end + 1
	}
	return nil
}
