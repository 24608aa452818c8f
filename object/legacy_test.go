package object

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestLegacyIproute2 loads an object in iproute2's style (testdata/legacy.c):
// struct bpf_elf_map definitions and tail-call sections "N/M".
func TestLegacyIproute2(t *testing.T) {
	spec := mustLoad(t, "legacy.o")
	jumps, inner, outer, counters := spec.Map("jumps"), spec.Map("inner"), spec.Map("outer"), spec.Map("counters")
	if jumps == nil || inner == nil || outer == nil || counters == nil {
		t.Fatalf("maps %v", spec.Maps)
	}
	if jumps.ID != 1 || jumps.ElfPinning != 2 || jumps.Pinning != PinByName || jumps.InnerIndex != 0xffffffff {
		t.Errorf("jumps: %+v", jumps)
	}
	if want := []MapKV{{0, "tail0"}, {5, "tail5"}}; !reflect.DeepEqual(jumps.Contents, want) {
		t.Errorf("jumps holds %v, want %v", jumps.Contents, want)
	}
	if inner.ID != 2 || inner.InnerIndex != 3 || inner.Pinning != PinNone {
		t.Errorf("inner: %+v", inner)
	}
	if outer.InnerMap == nil || outer.InnerMap.Type != 1 || outer.InnerMap.ValueSize != 8 || outer.InnerMap.MaxEntries != 16 {
		t.Errorf("outer's inner map: %+v", outer.InnerMap)
	}
	if want := []MapKV{{3, "inner"}}; !reflect.DeepEqual(outer.Contents, want) {
		t.Errorf("outer holds %v, want %v", outer.Contents, want)
	}
	if counters.ID != 0 || counters.ElfPinning != 0 {
		t.Errorf("counters: %+v", counters)
	}
}

// TestLegacyTailCallErrors: a tail-call section naming a prog array id that
// no map has, or an index past the array, is a clear error.
func TestLegacyTailCallErrors(t *testing.T) {
	data, err := os.ReadFile("testdata/legacy.o")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ from, to, want string }{
		{"1/0\x00", "9/0\x00", `section "9/0": an iproute2 tail call into the prog array with id 9, but no prog array has that id`},
		{"1/5\x00", "1/8\x00", `section "1/8": invalid object: "tail5" at index 8 of map "jumps", which has 8 entries`},
	} {
		obj := bytes.Replace(data, []byte(tt.from), []byte(tt.to), 1)
		_, err := LoadReader(bytes.NewReader(obj))
		if !errors.Is(err, ErrInvalidObject) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %s", tt.to, err, tt.want)
		}
	}
}

// TestLegacySamplesMapInMap reads samples/bpf's 28-byte definitions, whose
// inner_map_idx names a map-in-map's inner map, from Linux's
// test_map_in_map_kern.o (shared test input).
func TestLegacySamplesMapInMap(t *testing.T) {
	path := filepath.Join(realworldDir, "linux", "test_map_in_map_kern.o")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("realworld objects not available: %v", err)
	}
	spec, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for outer, inner := range map[string]string{"a_of_port_a": "port_a", "h_of_port_a": "port_a", "h_of_port_h": "port_h"} {
		m := spec.Map(outer)
		if m == nil || m.InnerMap == nil || m.InnerMap.Name != inner || m.ValueSize != 4 {
			t.Errorf("%s: %+v, want inner map %s and 4-byte values", outer, m, inner)
		}
	}
	if m := spec.Map("port_a"); m == nil || m.InnerMap != nil || m.ID != 0 {
		t.Errorf("port_a: %+v", m)
	}
}

// TestLegacyMapSection checks how a maps section without symbol sizes is
// divided among its symbols.
func TestLegacyMapSection(t *testing.T) {
	def := func(typ uint32, extra ...uint32) []byte {
		b := binary.LittleEndian.AppendUint32(nil, typ)
		for _, v := range []uint32{4, 4, 1, 0} {
			b = binary.LittleEndian.AppendUint32(b, v)
		}
		for _, v := range extra {
			b = binary.LittleEndian.AppendUint32(b, v)
		}
		return b
	}
	sym := func(name uint32, value uint64) []byte {
		e := make([]byte, elfSymSize)
		binary.LittleEndian.PutUint32(e, name)
		e[4] = byte(elf64STBGlobal) << 4 // NOTYPE, size 0
		binary.LittleEndian.PutUint16(e[6:], 2)
		binary.LittleEndian.PutUint64(e[8:], value)
		return e
	}
	strtab := []byte("\x00a\x00b\x00")
	build := func(maps []byte, offs ...uint64) []byte {
		syms := make([]byte, elfSymSize)
		for i, o := range offs {
			syms = append(syms, sym(uint32(1+2*i), o)...)
		}
		return buildELF(t, []testSection{
			{name: "maps", typ: 1, flags: 3, data: maps},
			{name: ".strtab", typ: 3, data: strtab},
			{name: ".symtab", typ: 2, data: syms, link: 3, info: 1, entsize: elfSymSize},
		})
	}
	for _, tt := range []struct {
		name string
		obj  []byte
		want string
	}{
		{"uneven", build(append(def(1), 0, 0, 0, 0, 0, 0, 0), 0, 20), "2 map symbols do not divide its 27 bytes"},
		{"misplaced", build(append(def(1), def(2)...), 0, 8), `map "b" at offset 8, want 20`},
		{"too short", build(def(1)[:16], 0), "map definitions of 16 bytes, want at least 20"},
		{"unknown bytes", build(append(def(1, 0, 0, 0, 0, 7), def(1, 0, 0, 0, 0, 0)...), 0, 40), "non-zero byte at offset 36"},
		{"no inner map", build(append(def(12, 5, 0, 9, 0xffffffff), def(1, 6, 0, 0, 0)...), 0, 36), `map-in-map "a": no map has its inner_id 9`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadReader(bytes.NewReader(tt.obj))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadReader: %v, want an error containing %q", err, tt.want)
			}
		})
	}
	spec, err := LoadReader(bytes.NewReader(build(append(def(1, 7, 2), def(12, 0, 0)...), 0, 28)))
	if err != nil {
		t.Fatal(err)
	}
	// 28 bytes with a map-in-map: samples/bpf's layout, inner_map_idx 0.
	if b := spec.Map("b"); b.InnerMap == nil || b.InnerMap.Name != "a" || b.ID != 0 {
		t.Errorf("b: %+v", b)
	}
}

const elf64STBGlobal = 1

// TestBTFMapTypedefs loads BTF map definitions that use typedefs and
// qualifiers (testdata/typedef.c); the inner map of a map-in-map was
// refused as "unsupported value type".
func TestBTFMapTypedefs(t *testing.T) {
	spec := mustLoad(t, "typedef.o")
	outer := spec.Map("outer")
	if outer == nil || outer.InnerMap == nil || outer.InnerMap.Type != 2 || outer.InnerMap.MaxEntries != 1 {
		t.Fatalf("outer: %+v", outer)
	}
	if want := []MapKV{{1, "inner1"}}; !reflect.DeepEqual(outer.Contents, want) {
		t.Errorf("outer holds %v, want %v", outer.Contents, want)
	}
	if c := spec.Map("counts"); c == nil || c.Type != 1 || c.KeySize != 4 || c.ValueSize != 8 || c.MaxEntries != 4 {
		t.Errorf("counts: %+v", c)
	}
}

// TestLegacyFunctionSymbols: old compilers leave function symbols untyped
// and of size 0, or give code no symbol at all; cilium/ebpf's reader said
// "no instructions found for symbol". RELA relocations with a zero addend
// are read as REL ones; others are refused by name.
func TestLegacyFunctionSymbols(t *testing.T) {
	le := binary.LittleEndian
	insn := func(op byte, imm int32) []byte {
		b := make([]byte, 8)
		b[0] = op
		le.PutUint32(b[4:], uint32(imm))
		return b
	}
	ret := func(v int32) []byte { return append(insn(0xb7, v), insn(0x95, 0)...) } // r0 = v; exit
	sym := func(name uint32, shndx uint16, value uint64) []byte {
		e := make([]byte, elfSymSize)
		le.PutUint32(e, name)
		e[4] = byte(elf64STBGlobal) << 4 // NOTYPE, size 0
		le.PutUint16(e[6:], shndx)
		le.PutUint64(e[8:], value)
		return e
	}
	strtab := []byte("\x00f\x00a\x00b\x00")
	syms := make([]byte, elfSymSize)
	syms = append(syms, sym(1, 2, 0)...)  // f in xdp
	syms = append(syms, sym(3, 3, 0)...)  // a in socket
	syms = append(syms, sym(5, 3, 16)...) // b in socket
	secs := []testSection{
		{name: "xdp", typ: 1, flags: 6, data: ret(2)},
		{name: "socket", typ: 1, flags: 6, data: append(ret(0), ret(1)...)},
		{name: "tc", typ: 1, flags: 6, data: ret(3)},
		{name: ".strtab", typ: 3, data: strtab},
		{name: ".symtab", typ: 2, data: syms, link: 5, info: 1, entsize: elfSymSize},
		{name: "license", typ: 1, flags: 3, data: []byte("GPL\x00")},
	}
	spec, err := LoadReader(bytes.NewReader(buildELF(t, secs)))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]struct {
		section string
		imm     int32
	}{"f": {"xdp", 2}, "a": {"socket", 0}, "b": {"socket", 1}, "tc": {"tc", 3}} {
		p := spec.Program(name)
		if p == nil || p.Section != want.section || len(p.Instructions) != 2 || p.Instructions[0].Imm != want.imm {
			t.Errorf("program %s: %+v, want 2 instructions of section %s", name, p, want.section)
		}
	}

	// A RELA section with a non-zero addend.
	rela := make([]byte, 24)
	le.PutUint64(rela[8:], 1<<32) // symbol 1
	le.PutUint64(rela[16:], 5)
	secs = append(secs, testSection{name: ".relaxdp", typ: 4, data: rela, link: 6, info: 2, entsize: 24})
	_, err = LoadReader(bytes.NewReader(buildELF(t, secs)))
	if !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), `relocation section ".relaxdp": entry 0 has addend 5`) {
		t.Errorf("RELA with an addend: %v", err)
	}
}

// linkObject builds an object whose programs (one per section) each call
// one function of textInsns instructions in .text.
func linkObject(t *testing.T, textInsns, progs int) []byte {
	le := binary.LittleEndian
	text := bytes.Repeat([]byte{0xb7, 0, 0, 0, 0, 0, 0, 0}, textInsns-1) // r0 = 0
	text = append(text, 0x95, 0, 0, 0, 0, 0, 0, 0)                       // exit
	strtab := []byte{0}
	addName := func(n string) uint32 {
		o := uint32(len(strtab))
		strtab = append(append(strtab, n...), 0)
		return o
	}
	sym := func(name uint32, shndx uint16, size uint64) []byte {
		e := make([]byte, elfSymSize)
		le.PutUint32(e, name)
		e[4] = elf64STBGlobal<<4 | 2 // FUNC
		le.PutUint16(e[6:], shndx)
		le.PutUint64(e[16:], size)
		return e
	}
	syms := append(make([]byte, elfSymSize), sym(addName("big"), 2, uint64(len(text)))...)
	secs := []testSection{
		{name: ".text", typ: 1, flags: 6, data: text},
		{name: ".strtab", typ: 3},
		{name: ".symtab", typ: 2, link: 3, info: 1, entsize: elfSymSize},
		{name: "license", typ: 1, flags: 3, data: []byte("GPL\x00")},
	}
	for i := 0; i < progs; i++ {
		idx := uint16(6 + 2*i)
		syms = append(syms, sym(addName(fmt.Sprintf("p%d", i)), idx, 16)...)
		code := []byte{0x85, 0x10, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x95, 0, 0, 0, 0, 0, 0, 0} // call big; exit
		rel := make([]byte, elfRelSize)
		le.PutUint64(rel[8:], 1<<32|10) // symbol 1, R_BPF_64_32
		secs = append(secs,
			testSection{name: fmt.Sprintf("socket%d", i), typ: 1, flags: 6, data: code},
			testSection{name: fmt.Sprintf(".relsocket%d", i), typ: 9, data: rel, link: 4, info: uint32(idx), entsize: elfRelSize})
	}
	secs[1].data, secs[2].data = strtab, syms
	return buildELF(t, secs)
}

// TestLinkedCode: linking copies called functions into every program, so
// 200 programs calling one 100,000-instruction function made a 0.8 MB
// object cost 2.5 GB and 22 s. What linking would produce is bounded first.
func TestLinkedCode(t *testing.T) {
	start := time.Now()
	_, err := LoadReader(bytes.NewReader(linkObject(t, 100000, 200)))
	if !errors.Is(err, ErrInvalidObject) || !strings.Contains(err.Error(), "programs would link to more than the limit of 4194304 instructions") {
		t.Errorf("200 programs: %v", err)
	}
	// The error says the bound was applied before linking; the time is
	// a hang guard (the linking took 22 s here).
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %v", d)
	}
	_, err = LoadReader(bytes.NewReader(linkObject(t, maxProgramCode/8, 1)))
	if !errors.Is(err, ErrInvalidObject) || !strings.Contains(err.Error(), `section "socket0": its programs would link to more than 1048578 instructions, limit 1048576`) {
		t.Errorf("one program past Linux's limit: %v", err)
	}
	spec, err := LoadReader(bytes.NewReader(linkObject(t, 1000, 20)))
	if err != nil {
		t.Fatal(err)
	}
	if p := spec.Program("p7"); p == nil || len(p.Instructions) != 1002 {
		t.Errorf("p7: %+v", p)
	}
}
