package object

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// testSection is a section for buildELF. With claim set, the section is
// SHF_COMPRESSED (zlib) and its compression header claims that many bytes.
type testSection struct {
	name    string
	typ     uint32
	flags   uint64
	data    []byte
	link    uint32
	info    uint32
	entsize uint64
	claim   uint64
}

// buildELF writes a little-endian ELF64 eBPF relocatable object with the
// given sections after the null section and a .shstrtab (index 1).
func buildELF(t testing.TB, secs []testSection) []byte {
	t.Helper()
	le := binary.LittleEndian
	all := append([]testSection{{}, {name: ".shstrtab", typ: 3}}, secs...)
	var names bytes.Buffer
	names.WriteByte(0)
	nameOff := make([]uint32, len(all))
	for i, s := range all[1:] {
		nameOff[i+1] = uint32(names.Len())
		names.WriteString(s.name)
		names.WriteByte(0)
	}
	all[1].data = names.Bytes()
	out := make([]byte, elfHeaderSize)
	copy(out, []byte{0x7f, 'E', 'L', 'F', 2, 1, 1})
	le.PutUint16(out[16:], 1)   // ET_REL
	le.PutUint16(out[18:], 247) // EM_BPF
	le.PutUint32(out[20:], 1)
	le.PutUint16(out[52:], elfHeaderSize)
	le.PutUint16(out[58:], elfSectionSize)
	le.PutUint16(out[60:], uint16(len(all)))
	le.PutUint16(out[62:], 1)
	offs := make([]uint64, len(all))
	sizes := make([]uint64, len(all))
	for i, s := range all {
		for len(out)%8 != 0 {
			out = append(out, 0)
		}
		offs[i] = uint64(len(out))
		data := s.data
		if s.claim != 0 {
			var z bytes.Buffer
			w := zlib.NewWriter(&z)
			w.Write(data)
			w.Close()
			hdr := make([]byte, elfChdrSize)
			le.PutUint32(hdr, 1) // ELFCOMPRESS_ZLIB
			le.PutUint64(hdr[8:], s.claim)
			le.PutUint64(hdr[16:], 1)
			data = append(hdr, z.Bytes()...)
		}
		sizes[i] = uint64(len(data))
		if s.typ == 8 { // SHT_NOBITS
			sizes[i] = uint64(len(s.data))
		} else {
			out = append(out, data...)
		}
	}
	for len(out)%8 != 0 {
		out = append(out, 0)
	}
	le.PutUint64(out[40:], uint64(len(out)))
	for i, s := range all {
		h := make([]byte, elfSectionSize)
		le.PutUint32(h, nameOff[i])
		le.PutUint32(h[4:], s.typ)
		flags := s.flags
		if s.claim != 0 {
			flags |= shfCompressed
		}
		le.PutUint64(h[8:], flags)
		le.PutUint64(h[24:], offs[i])
		le.PutUint64(h[32:], sizes[i])
		le.PutUint32(h[40:], s.link)
		le.PutUint32(h[44:], s.info)
		le.PutUint64(h[48:], 8)
		le.PutUint64(h[56:], s.entsize)
		out = append(out, h...)
	}
	return out
}

// ptrChainBTF returns raw BTF with an int and a chain of n pointers, each
// to the one before (the shape of F1 in ../shared/security/resources), or,
// with cycle set, the first pointer pointing at the last.
func ptrChainBTF(n int, cycle bool) []byte {
	le := binary.LittleEndian
	var types []byte
	types = le.AppendUint32(types, 1)     // name "a"
	types = le.AppendUint32(types, 1<<24) // INT
	types = le.AppendUint32(types, 4)     // size
	types = le.AppendUint32(types, 32)    // 32 bits
	for i := 0; i < n; i++ {
		target := uint32(i + 1)
		if cycle && i == 0 {
			target = uint32(n + 1)
		}
		types = le.AppendUint32(types, 0)
		types = le.AppendUint32(types, 2<<24) // PTR
		types = le.AppendUint32(types, target)
	}
	strs := []byte("\x00a\x00")
	hdr := make([]byte, 24)
	le.PutUint16(hdr, 0xeb9f)
	hdr[2] = 1
	le.PutUint32(hdr[4:], 24)
	le.PutUint32(hdr[8:], 0)
	le.PutUint32(hdr[12:], uint32(len(types)))
	le.PutUint32(hdr[16:], uint32(len(types)))
	le.PutUint32(hdr[20:], uint32(len(strs)))
	return append(append(hdr, types...), strs...)
}

// TestDeepBTF is the regression test of F1: a deep pointer chain in .BTF
// used to overflow the Go stack inside cilium/ebpf's BTF parser, a fatal
// error. It must be rejected before parsing, in an ELF object and as raw
// target BTF, chains and cycles alike.
func TestDeepBTF(t *testing.T) {
	for _, tt := range []struct {
		name  string
		n     int
		cycle bool
	}{{"chain", 300000, false}, {"cycle", 100000, true}} {
		t.Run(tt.name, func(t *testing.T) {
			raw := ptrChainBTF(tt.n, tt.cycle)
			obj := buildELF(t, []testSection{{name: ".BTF", typ: 1, data: raw}})
			_, err := LoadReader(bytes.NewReader(obj))
			if !errors.Is(err, ErrInvalidObject) || !strings.Contains(err.Error(), "chain of") {
				t.Errorf("LoadReader: %v, want a chain-depth error", err)
			}
			_, err = LoadTargetBTF(bytes.NewReader(raw))
			if !errors.Is(err, ErrInvalidObject) || !strings.Contains(err.Error(), "chain of") {
				t.Errorf("LoadTargetBTF: %v, want a chain-depth error", err)
			}
		})
	}
	// Chains within the limit still parse.
	if _, err := LoadTargetBTF(bytes.NewReader(ptrChainBTF(1000, false))); err != nil {
		t.Errorf("1000-deep chain: %v", err)
	}
	if err := checkRawBTF(ptrChainBTF(maxBTFDepth-1, false)); err != nil {
		t.Errorf("chain at the limit: %v", err)
	}
	if err := checkRawBTF(ptrChainBTF(maxBTFDepth+1, true)); err == nil {
		t.Errorf("cycle one past the limit accepted")
	}
}

// TestCompressedClaims is the regression test of F4: compressed sections
// claiming GiBs were decompressed in full. The claim is checked first.
func TestCompressedClaims(t *testing.T) {
	for _, tt := range []struct {
		name string
		sec  testSection
		want string
	}{
		{"data 4 GiB", testSection{name: ".data", typ: 1, flags: 3, data: make([]byte, 64), claim: 4 << 30}, `".data": 4294967296 bytes uncompressed`},
		{"license 1 GiB", testSection{name: "license", typ: 1, flags: 3, data: []byte("GPL\x00"), claim: 1 << 30}, `"license": 1073741824 bytes uncompressed`},
		{"btf 1 GiB", testSection{name: ".BTF", typ: 1, data: []byte{0}, claim: 1 << 30}, `".BTF": 1073741824 bytes uncompressed`},
		{"code 1 GiB", testSection{name: "xdp", typ: 1, flags: 6, data: make([]byte, 8), claim: 1 << 30}, `"xdp": 1073741824 bytes uncompressed`},
		{"bss 5 MiB", testSection{name: ".bss", typ: 8, flags: 3, data: make([]byte, 5<<20)}, `".bss": 5242880 bytes, limit 4194304`},
		{"symtab", testSection{name: ".symtab", typ: 2, data: make([]byte, 24), claim: 1 << 40}, `".symtab": 1099511627776 bytes uncompressed`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			obj := buildELF(t, []testSection{tt.sec})
			// Refusing a claim must not first allocate (or decompress)
			// it: bounded by what was allocated, which load does not
			// change; the time only guards against a hang.
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := LoadReader(bytes.NewReader(obj))
			d := time.Since(start)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrInvalidObject) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadReader: %v, want an error containing %s", err, tt.want)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
			if d > 30*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestSymbolNameBytes: a million symbols naming one long string would make
// debug/elf copy it a million times.
func TestSymbolNameBytes(t *testing.T) {
	strtab := append([]byte{0}, bytes.Repeat([]byte{'x'}, 1<<10)...)
	strtab = append(strtab, 0)
	const n = 1 << 16 // 64 MiB of names in total: one byte over the limit
	syms := make([]byte, elfSymSize*(n+1))
	for i := 1; i <= n; i++ {
		binary.LittleEndian.PutUint32(syms[i*elfSymSize:], 1)
	}
	syms = append(syms, make([]byte, elfSymSize)...)
	binary.LittleEndian.PutUint32(syms[len(syms)-elfSymSize:], 1)
	obj := buildELF(t, []testSection{
		{name: ".strtab", typ: 3, data: strtab},
		{name: ".symtab", typ: 2, data: syms, link: 2, entsize: elfSymSize},
	})
	_, err := LoadReader(bytes.NewReader(obj))
	if !errors.Is(err, ErrInvalidObject) || !strings.Contains(err.Error(), "names total more than") {
		t.Errorf("LoadReader: %v, want a name-size error", err)
	}
}

func TestStringsAt(t *testing.T) {
	table := []byte("\x00abc\x00de\x00")
	got, err := stringsAt(table, []uint32{1, 0, 2, 5, 6, 1}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"abc", "", "bc", "de", "e", "abc"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, offs := range [][]uint32{{9}, {100}} {
		if _, err := stringsAt(table, offs, 100); err == nil {
			t.Errorf("offsets %v: no error", offs)
		}
	}
	if _, err := stringsAt([]byte("\x00ab"), []uint32{1}, 100); err == nil {
		t.Error("unterminated name: no error")
	}
	if _, err := stringsAt(table, []uint32{1, 1, 1}, 8); err == nil {
		t.Error("names over the limit: no error")
	}
}

// rawBTF assembles raw BTF from its type and string sections.
func rawBTF(types, strs []byte) []byte {
	le := binary.LittleEndian
	hdr := make([]byte, 24)
	le.PutUint16(hdr, 0xeb9f)
	hdr[2] = 1
	le.PutUint32(hdr[4:], 24)
	le.PutUint32(hdr[12:], uint32(len(types)))
	le.PutUint32(hdr[16:], uint32(len(types)))
	le.PutUint32(hdr[20:], uint32(len(strs)))
	return append(append(hdr, types...), strs...)
}

// TestBTFNameBytes: the BTF parser copies the string at every name it
// looks up, so many names pointing at one long string must be refused.
func TestBTFNameBytes(t *testing.T) {
	le := binary.LittleEndian
	strs := append(append([]byte{0}, bytes.Repeat([]byte{'x'}, 1<<20)...), 0)
	var types []byte
	types = le.AppendUint32(types, 1)
	types = le.AppendUint32(types, 1<<24) // INT
	types = le.AppendUint32(types, 4)
	types = le.AppendUint32(types, 32)
	const members = 100 // 100 MiB of member names
	types = le.AppendUint32(types, 1)
	types = le.AppendUint32(types, 4<<24|members) // STRUCT
	types = le.AppendUint32(types, 4)
	for i := 0; i < members; i++ {
		types = le.AppendUint32(types, 1)
		types = le.AppendUint32(types, 1)
		types = le.AppendUint32(types, 0)
	}
	_, err := LoadTargetBTF(bytes.NewReader(rawBTF(types, strs)))
	if !errors.Is(err, ErrInvalidObject) || !strings.Contains(err.Error(), "names total more than") {
		t.Errorf("LoadTargetBTF: %v, want a name-size error", err)
	}

	// .BTF.ext CO-RE relocations whose accessor is the long string.
	var lines []byte
	lines = le.AppendUint32(lines, 16) // record size
	lines = le.AppendUint32(lines, 1)  // section name
	const relos = 8                    // 8 MiB of accessors
	lines = le.AppendUint32(lines, relos)
	for i := 0; i < relos; i++ {
		lines = le.AppendUint32(lines, uint32(8*i))
		lines = le.AppendUint32(lines, 1)
		lines = le.AppendUint32(lines, 1)
		lines = le.AppendUint32(lines, 0)
	}
	ext := make([]byte, 32)
	le.PutUint16(ext, 0xeb9f)
	ext[2] = 1
	le.PutUint32(ext[4:], 32)
	le.PutUint32(ext[24:], 0) // core_relo_off
	le.PutUint32(ext[28:], uint32(len(lines)))
	ext = append(ext, lines...)
	if err := checkBTFExt(ext, strs); err == nil || !strings.Contains(err.Error(), "names total more than 4194304 bytes") {
		t.Errorf("checkBTFExt: %v, want a name-size error", err)
	}
	if err := checkBTFExt(ext, strs[:10]); err != nil {
		t.Errorf("checkBTFExt with short names: %v", err)
	}
}

// TestOverlappingSymbols: the reader copies every variable and decodes
// every function on its own, so overlapping symbols multiply a section;
// NOBITS data sections cost nothing in the file. All three are bounded.
func TestOverlappingSymbols(t *testing.T) {
	le := binary.LittleEndian
	symbols := func(shndx uint16, typ byte, n int, size uint64) []byte {
		syms := make([]byte, elfSymSize)
		for i := 0; i < n; i++ {
			e := make([]byte, elfSymSize)
			le.PutUint32(e, 1)
			e[4] = elf64STBGlobal<<4 | typ
			le.PutUint16(e[6:], shndx)
			le.PutUint64(e[8:], uint64(i*8))
			le.PutUint64(e[16:], size-uint64(i*8))
			syms = append(syms, e...)
		}
		return syms
	}
	strtab := []byte("\x00v\x00")
	exit := bytes.Repeat([]byte{0x95, 0, 0, 0, 0, 0, 0, 0}, 100000)
	var many []testSection
	for i := 0; i < 17; i++ {
		many = append(many, testSection{name: fmt.Sprintf(".data.%d", i), typ: 8, flags: 3, data: make([]byte, 4<<20)})
	}
	for _, tt := range []struct {
		name string
		secs []testSection
		want string
	}{
		{"data sections", many, "bytes of global data sections, limit 67108864"},
		{"variables", []testSection{
			{name: ".data", typ: 1, flags: 3, data: make([]byte, 1<<20)},
			{name: ".strtab", typ: 3, data: strtab},
			{name: ".symtab", typ: 2, data: symbols(2, 1, 100, 1<<20), link: 3, info: 1, entsize: elfSymSize},
		}, "symbols of global data sections cover more than 67108864 bytes"},
		{"functions", []testSection{
			{name: ".text", typ: 1, flags: 6, data: exit},
			{name: ".strtab", typ: 3, data: strtab},
			{name: ".symtab", typ: 2, data: symbols(2, 2, 50, uint64(len(exit))), link: 3, info: 1, entsize: elfSymSize},
		}, "function symbols cover more than the limit of 4194304 instructions"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadReader(bytes.NewReader(buildELF(t, tt.secs)))
			if !errors.Is(err, ErrInvalidObject) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadReader: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestSecurityResources loads the loader findings of
// ../shared/security/resources (F1: a 300,000-deep BTF pointer chain; F4:
// compressed sections claiming GiBs): each must end quickly, allocating
// little, with a clear error.
func TestSecurityResources(t *testing.T) {
	dir := "../../shared/security/resources"
	for file, want := range map[string]string{
		"f1_btf_deep300k_zstd.o": "starts a chain of 300003 type references, limit 16384",
		"f4_data4g_zstd.o":       `section ".data": 4294967295 bytes uncompressed, limit 4194304`,
		"f4_license1g_zstd.o":    `section "license": 1073741824 bytes uncompressed, limit 4096`,
	} {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join(dir, file)
			if _, err := os.Stat(path); err != nil {
				t.Skipf("security resources not available: %v", err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := Load(path)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrInvalidObject) || !strings.Contains(err.Error(), want) {
				t.Errorf("Load: %v, want an error containing %q", err, want)
			}
			if elapsed > 30*time.Second { // a hang guard: the allocations tell
				t.Errorf("took %v", elapsed)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
		})
	}
}

// TestTargetBTFFromELF: target BTF is read from an ELF file's .BTF section
// alone, so a big vmlinux ELF is no object to bound, while .BTF itself is
// checked like any BTF.
func TestTargetBTFFromELF(t *testing.T) {
	big := testSection{name: ".text", typ: 1, flags: 6, data: make([]byte, maxCodeSize+8)}
	obj := buildELF(t, []testSection{big, {name: ".BTF", typ: 1, data: ptrChainBTF(10, false)}})
	if _, err := LoadTargetBTF(bytes.NewReader(obj)); err != nil {
		t.Errorf("ELF with %d bytes of code: %v", len(big.data), err)
	}
	for _, tt := range []struct {
		sec  testSection
		want string
	}{
		{testSection{name: ".BTF", typ: 1, data: ptrChainBTF(maxBTFDepth+1, false)}, "chain of"},
		{testSection{name: ".BTF", typ: 1, data: ptrChainBTF(10, false), claim: 1 << 30}, "section .BTF: 1073741824 bytes"},
		{testSection{name: ".data", typ: 1, data: []byte{1}}, "without a .BTF section"},
	} {
		_, err := LoadTargetBTF(bytes.NewReader(buildELF(t, []testSection{tt.sec})))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error containing %q", tt.sec.name, err, tt.want)
		}
	}
	// Compressed, within the limit.
	obj = buildELF(t, []testSection{{name: ".BTF", typ: 1, data: ptrChainBTF(10, false), claim: uint64(len(ptrChainBTF(10, false)))}})
	if _, err := LoadTargetBTF(bytes.NewReader(obj)); err != nil {
		t.Errorf("compressed .BTF: %v", err)
	}
}
