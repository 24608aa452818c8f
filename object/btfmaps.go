package object

import (
	"bytes"
	"encoding/binary"
)

// A BTF map definition in .maps may name its types through typedefs and
// qualifiers anywhere C allows, but cilium/ebpf's reader wants the 'values'
// member of a map-in-map or prog array to be an array of pointers straight
// to a struct (the inner map) or a function prototype: a typedef'd inner
// map ("__array(values, inner_map_t)") fails with "unsupported value type".
// patchBTFMapTypedefs rewrites those references in the raw .BTF of the
// image to the types the typedefs and qualifiers stand for, which is what
// libbpf does when it reads the definition (skip_mods_and_typedefs).

// btfTypes gives access to the records of a raw BTF type section.
type btfTypes struct {
	types []byte // the type section, in the image: patches write through
	strs  []byte
	g     *btfGraph
}

func (t *btfTypes) rec(id uint32) []byte {
	if id == 0 || int(id) >= len(t.g.offs) {
		return nil
	}
	return t.types[t.g.offs[id]:]
}

func (t *btfTypes) kind(id uint32) int {
	if r := t.rec(id); r != nil {
		return int(binary.LittleEndian.Uint32(r[4:]) >> 24 & 0x1f)
	}
	return 0
}

func (t *btfTypes) vlen(id uint32) int {
	return int(binary.LittleEndian.Uint32(t.rec(id)[4:]) & 0xffff)
}

func (t *btfTypes) name(off uint32) []byte {
	if int(off) >= len(t.strs) {
		return nil
	}
	s := t.strs[off:]
	if i := bytes.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return nil
}

// skipMods follows typedefs and qualifiers from id, at most Linux's
// MAX_RESOLVE_DEPTH of them.
func (t *btfTypes) skipMods(id uint32) uint32 {
	for i := 0; i < 32; i++ {
		switch t.kind(id) {
		case btfKindTypedef, btfKindVolatile, btfKindConst, btfKindRestrict, btfKindTypeTag:
			id = binary.LittleEndian.Uint32(t.rec(id)[8:])
		default:
			return id
		}
	}
	return id
}

// patchBTFMapTypedefs applies the rewrite described above to the .BTF
// section of the image, if it is there uncompressed and little-endian.
func (img *elfImage) patchBTFMapTypedefs() {
	if t := img.rawBTFTypes(); t != nil {
		patchMapValues(t)
	}
}

// rawBTFTypes gives access to the types of the image's .BTF section, in
// place (patches write through), if it is there uncompressed and
// little-endian; nil otherwise.
func (img *elfImage) rawBTFTypes() *btfTypes {
	for i := range img.sections {
		s := &img.sections[i]
		if s.name != ".BTF" || s.compressed || s.typ == 8 /* SHT_NOBITS */ {
			continue
		}
		raw := img.data[s.offset : s.offset+s.size]
		if len(raw) < 24 || binary.LittleEndian.Uint16(raw) != 0xeb9f {
			return nil
		}
		le := binary.LittleEndian
		hdrLen, typeOff, typeLen := uint64(le.Uint32(raw[4:])), uint64(le.Uint32(raw[8:])), uint64(le.Uint32(raw[12:]))
		if hdrLen+typeOff+typeLen > uint64(len(raw)) {
			return nil
		}
		strs, err := btfStrings(raw, le)
		if err != nil {
			return nil
		}
		types := raw[hdrLen+typeOff : hdrLen+typeOff+typeLen]
		g, err := parseBTFGraph(types, le)
		if err != nil {
			return nil // checkRawBTF has accepted it; nothing to patch otherwise
		}
		return &btfTypes{types: types, strs: strs, g: g}
	}
	return nil
}

// patchMapValues rewrites the map definitions of the .maps datasec.
func patchMapValues(t *btfTypes) {
	t.eachMapDef(func(_ string, def uint32) { t.patchMapDef(def, true) })
}

// eachMapDef calls f with the name and the definition (modifiers skipped)
// of each variable of the .maps datasec.
func (t *btfTypes) eachMapDef(f func(name string, def uint32)) {
	le := binary.LittleEndian
	for id := uint32(1); int(id) < len(t.g.offs); id++ {
		if t.kind(id) != btfKindDatasec || string(t.name(le.Uint32(t.rec(id)))) != ".maps" {
			continue
		}
		secinfo := t.rec(id)[12:]
		for v := 0; v < t.vlen(id); v++ {
			varID := le.Uint32(secinfo[12*v:])
			if t.kind(varID) == btfKindVar {
				f(string(t.name(le.Uint32(t.rec(varID)))), t.skipMods(le.Uint32(t.rec(varID)[8:])))
			}
		}
	}
}

// patchMapDef rewrites the members of one map definition struct: integer
// fields (__uint: a pointer to an array whose length is the value) and
// 'values' (an array of pointers to the inner map's definition, which is
// patched in turn, or to function prototypes).
func (t *btfTypes) patchMapDef(def uint32, outer bool) {
	le := binary.LittleEndian
	if t.kind(def) != btfKindStruct {
		return
	}
	members := t.rec(def)[12:]
	for m := 0; m < t.vlen(def); m++ {
		member := members[12*m:]
		typ := t.skipMods(le.Uint32(member[4:]))
		switch t.kind(typ) {
		case btfKindPtr:
			// __uint(name, N) and __type(name, T): only the former's
			// target, an array, is rewritten; T stays as the source
			// spells it.
			le.PutUint32(member[4:], typ)
			target := t.rec(typ)[8:]
			if arr := t.skipMods(le.Uint32(target)); t.kind(arr) == btfKindArray {
				le.PutUint32(target, arr)
			}
		case btfKindArray:
			if string(t.name(le.Uint32(member))) != "values" {
				continue
			}
			le.PutUint32(member[4:], typ)
			elem := t.rec(typ)[12:]
			ptr := t.skipMods(le.Uint32(elem))
			if t.kind(ptr) != btfKindPtr {
				continue
			}
			le.PutUint32(elem, ptr)
			target := t.rec(ptr)[8:]
			inner := t.skipMods(le.Uint32(target))
			le.PutUint32(target, inner)
			if outer {
				t.patchMapDef(inner, false)
			}
		}
	}
}
