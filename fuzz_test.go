package bpfhost_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/object"
)

// FuzzPipeline feeds mutated objects through the whole load pipeline and
// runs every program that loads on a packet. Errors are expected; a panic,
// a fault or a hang is a bug.
func FuzzPipeline(f *testing.F) {
	for _, pattern := range []string{"examples/*.o", "testdata/agreement/*.o", "bench/progs/*.o"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	pkt := make([]byte, 64)
	pkt[12], pkt[13], pkt[14] = 0x08, 0x00, 0x45
	f.Fuzz(func(t *testing.T, elf []byte) {
		spec, err := object.LoadReader(bytes.NewReader(elf))
		if err != nil {
			return
		}
		coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Slots: 1, MemoryLimit: 16 << 20})
		if err != nil {
			return
		}
		defer coll.Close()
		for _, p := range coll.Programs {
			_, _ = p.Run(&bpfhost.RunOptions{Data: pkt, DataOut: []byte{}})
		}
	})
}
