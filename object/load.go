package object

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

var (
	// ErrInvalidObject is wrapped by errors about a malformed or unreadable
	// ELF object.
	ErrInvalidObject = errors.New("invalid object")
	// ErrNotSupported is wrapped by errors about valid objects that use
	// something this package does not handle (big-endian code, Windows
	// program or map types, map contents other than names).
	ErrNotSupported = errors.New("not supported")
	// ErrNotFound is wrapped by errors about a name (variable, map,
	// program, function) that the object does not declare.
	ErrNotFound = errors.New("not found")
)

// Load reads the ELF object at path. Errors name the file:
// "object: fw.o: ...".
func Load(path string) (*Spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("object: %w", err)
	}
	defer f.Close()
	spec, err := load(f)
	if err != nil {
		return nil, fmt.Errorf("object: %s: %w", path, err)
	}
	return spec, nil
}

// LoadReader reads an ELF object from r.
func LoadReader(r io.ReaderAt) (*Spec, error) {
	spec, err := load(r)
	if err != nil {
		return nil, fmt.Errorf("object: %w", err)
	}
	return spec, nil
}

// LoadTargetBTF reads BTF to relocate CO-RE programs against, from raw BTF
// (like /sys/kernel/btf/vmlinux) or from an ELF file's .BTF section. It lets
// callers that do not import cilium/ebpf obtain a target for RelocateCORE.
func LoadTargetBTF(r io.ReaderAt) (_ *btf.Spec, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("object: target BTF: %w: BTF parser panicked: %v", ErrInvalidObject, p)
		}
	}()
	raw, err := targetBTF(r)
	if err == nil {
		err = checkRawBTF(raw)
	}
	if err != nil {
		return nil, fmt.Errorf("object: target BTF: %w", err)
	}
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("object: target BTF: %w: %w", ErrInvalidObject, err)
	}
	return spec, nil
}

// targetBTF returns the raw BTF of r: all of it, or an ELF file's .BTF
// section, read without reading the rest of the file (a vmlinux ELF may be
// hundreds of MiB).
func targetBTF(r io.ReaderAt) ([]byte, error) {
	magic := make([]byte, 4)
	if n, _ := r.ReadAt(magic, 0); n < 4 || !bytes.Equal(magic, []byte(elf.ELFMAG)) {
		raw, err := io.ReadAll(io.NewSectionReader(r, 0, maxBTFSize+1))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidObject, err)
		}
		if len(raw) > maxBTFSize {
			return nil, fmt.Errorf("%w: BTF larger than %d bytes", ErrInvalidObject, maxBTFSize)
		}
		return raw, nil
	}
	img := &elfImage{}
	if err := img.parseHeadersFrom(readerSource{r}); err != nil {
		return nil, err
	}
	for i := range img.sections {
		s := &img.sections[i]
		if s.name != ".BTF" {
			continue
		}
		if s.size > maxBTFSize || s.typ == elf.SHT_NOBITS {
			return nil, fmt.Errorf("%w: section .BTF: %d bytes of type %v, limit %d", ErrInvalidObject, s.size, s.typ, maxBTFSize)
		}
		if !s.compressed {
			return readerSource{r}.at(s.offset, s.size)
		}
		f, err := openELFReader(r)
		if err != nil {
			return nil, err
		}
		raw := make([]byte, s.size)
		if _, err := io.ReadFull(io.LimitReader(f.Sections[i].Open(), int64(s.size)), raw); err != nil {
			return nil, fmt.Errorf("%w: section .BTF: decompressing: %w", ErrInvalidObject, err)
		}
		return raw, nil
	}
	return nil, fmt.Errorf("ELF file without a .BTF section: %w", ErrNotFound)
}

// FromCollectionSpec converts a CollectionSpec that cilium/ebpf parsed (for
// instance one that bpf2go embedded) into a Spec. Variables changed with
// VariableSpec.Set are taken into the data section maps. The result is the
// same as Load on the object the CollectionSpec came from.
func FromCollectionSpec(cs *ebpf.CollectionSpec) (*Spec, error) {
	spec, err := fromCollectionSpec(cs, nil)
	if err != nil {
		return nil, fmt.Errorf("object: %w", err)
	}
	return spec, nil
}

func load(r io.ReaderAt) (*Spec, error) {
	if err := checkELF(r); err != nil {
		return nil, err
	}
	data, err := readObject(r)
	if err != nil {
		return nil, describeParseError(err)
	}
	img, err := scanELF(data)
	if err != nil {
		return nil, describeParseError(err)
	}
	legacy, err := normalizeLegacy(img)
	if err != nil {
		return nil, err
	}
	cs, err := parseELF(bytes.NewReader(img.data))
	if err != nil {
		return nil, err
	}
	return fromCollectionSpec(cs, legacy)
}

// parseELF runs cilium/ebpf's ELF reader. It parses without touching the
// kernel; the recover turns a panic of the parser on a malformed file into
// an error, since the input may come from anywhere.
func parseELF(r io.ReaderAt) (cs *ebpf.CollectionSpec, err error) {
	defer func() {
		if p := recover(); p != nil {
			cs, err = nil, fmt.Errorf("%w: ELF parser panicked: %v", ErrInvalidObject, p)
		}
	}()
	cs, err = ebpf.LoadCollectionSpecFromReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidObject, err)
	}
	return cs, nil
}

// fromCollectionSpec converts cs; legacy, when the object was read here,
// describes its legacy map sections.
func fromCollectionSpec(cs *ebpf.CollectionSpec, legacy *legacyInfo) (*Spec, error) {
	if cs == nil {
		return nil, fmt.Errorf("%w: nil CollectionSpec", ErrInvalidObject)
	}
	// Programs and data sections are read as little-endian: the ISA package
	// and every host bpfhost runs on are little-endian.
	if cs.ByteOrder != nil && cs.ByteOrder != binary.LittleEndian {
		return nil, fmt.Errorf("big-endian object: %w", ErrNotSupported)
	}

	spec := &Spec{types: cs.Types}

	var err error
	if spec.Maps, err = convertMaps(cs.Maps, legacy); err != nil {
		return nil, err
	}
	if spec.Variables, err = convertVariables(cs.Variables, spec); err != nil {
		return nil, err
	}
	if err := addKconfig(spec, cs.Types); err != nil {
		return nil, err
	}

	names := make([]string, 0, len(cs.Programs))
	for name := range cs.Programs {
		names = append(names, name)
	}
	slices.Sort(names)
	conv := newProgramConverter(spec, cs)
	if legacy != nil {
		conv.weak = legacy.weakExterns
	}
	for _, name := range names {
		ps := cs.Programs[name]
		if ps == nil {
			return nil, fmt.Errorf("program %q: nil ProgramSpec", name)
		}
		p, err := conv.convert(name, ps)
		if err != nil {
			return nil, fmt.Errorf("program %q: %w", name, err)
		}
		spec.Programs = append(spec.Programs, p)
		if spec.License == "" {
			spec.License = ps.License
		}
	}
	if err := placeTailCalls(spec); err != nil {
		return nil, err
	}
	return spec, nil
}
