package object

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds malformed objects to the loader: it must return errors,
// never panic. Seeds are the test objects, truncated and with bits flipped.
func FuzzLoad(f *testing.F) {
	for _, obj := range append(objects, "core_target.o", "legacy.o", "typedef.o") {
		data, err := os.ReadFile(filepath.Join("testdata", obj))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		for _, n := range []int{0, 16, 64, len(data) / 3, len(data) / 2, len(data) - 1} {
			f.Add(data[:n])
		}
		for _, at := range []int{4, 18, 40, 60, len(data) / 4, len(data) / 2, 3 * len(data) / 4, len(data) - 8} {
			flipped := bytes.Clone(data)
			flipped[at] ^= 0x10
			f.Add(flipped)
		}
	}
	// Hostile shapes of ../shared/security/resources, small enough to
	// mutate: a BTF reference cycle, sections claiming more than they
	// hold (TestDeepBTF covers chains past the depth limit).
	f.Add(buildELF(f, []testSection{{name: ".BTF", typ: 1, data: ptrChainBTF(64, true)}}))
	f.Add(buildELF(f, []testSection{{name: ".data", typ: 1, flags: 3, data: make([]byte, 16), claim: 4 << 30}}))
	f.Add(buildELF(f, []testSection{{name: "license", typ: 1, flags: 3, data: []byte("GPL\x00"), claim: 4}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := LoadReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		cpy := spec.Copy()
		for _, v := range cpy.Variables {
			_ = cpy.SetVariable(v.Name, make([]byte, v.Size))
		}
		if spec.types != nil {
			// Relocating against the object's own types exercises the
			// CO-RE code on whatever the fuzzer made of them.
			_ = cpy.RelocateCORE(spec.types)
		}
		for _, p := range spec.Programs {
			for pc := range p.Instructions {
				_ = p.Line(pc)
				_ = p.FunctionAt(pc)
			}
		}
	})
}

// FuzzTargetBTF feeds malformed raw BTF to LoadTargetBTF and to the checks
// that run before cilium/ebpf's parser: errors, never a panic or a stack
// overflow.
func FuzzTargetBTF(f *testing.F) {
	f.Add(ptrChainBTF(8, false))
	f.Add(ptrChainBTF(8, true))
	f.Add(rawBTF(nil, []byte{0}))
	for _, obj := range []string{"core_target.o", "typedef.o"} {
		data, err := os.ReadFile(filepath.Join("testdata", obj))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		if i := bytes.Index(data, []byte{0x9f, 0xeb, 1, 0}); i >= 0 {
			f.Add(data[i:]) // the .BTF section onwards: raw BTF with trailing bytes
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := LoadTargetBTF(bytes.NewReader(data))
		if err != nil {
			return
		}
		for typ, err := range spec.All() {
			if err != nil {
				return
			}
			_ = typeString(typ)
		}
	})
}
