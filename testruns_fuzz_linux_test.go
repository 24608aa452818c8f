package bpfhost_test

import (
	"errors"
	"testing"

	"github.com/bpfhost/bpfhost"
)

// FuzzTestRunInputs runs testdata/testruns' programs (XDP multi-buffer,
// flow dissector, raw tracepoint, syscall, sk_lookup) on arbitrary data,
// contexts, context outs and repeat counts: a run succeeds or fails with
// ErrInvalid, the error of input a test run refuses; it never panics or
// faults (the checked engine reports any access outside the run's memory).
func FuzzTestRunInputs(f *testing.F) {
	spec, err := bpfhost.LoadCollectionSpec("testdata/testruns/testruns.o")
	if err != nil {
		f.Fatal(err)
	}
	coll, err := bpfhost.NewCollection(spec, engineOptions("jit-checked"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { coll.Close() })
	names := []string{"frags", "flow_dissect", "rawtp", "sys", "lookup"}
	f.Add(uint8(0), make([]byte, 5000), []byte(nil), false, uint8(1))
	f.Add(uint8(0), make([]byte, 200), make([]byte, 24), true, uint8(0))
	f.Add(uint8(1), frame(0x0800, ipv4TCP(0)), flowKeysWith(48, 1), true, uint8(2))
	f.Add(uint8(2), []byte(nil), u64s(1, 2, 3), false, uint8(0))
	f.Add(uint8(3), []byte(nil), u32s(1, 2, 3, 4), true, uint8(1))
	f.Add(uint8(4), []byte(nil), make([]byte, 72), true, uint8(0))
	f.Fuzz(func(t *testing.T, which uint8, data, ctx []byte, ctxOut bool, repeat uint8) {
		p := coll.Programs[names[int(which)%len(names)]]
		opts := &bpfhost.RunOptions{Data: data, DataOut: []byte{}, Repeat: uint32(repeat % 4)}
		if ctx != nil {
			opts.Context = ctx
		}
		var out []byte
		if ctxOut {
			opts.ContextOut = &out
		}
		if _, err := p.Run(opts); err != nil && !errors.Is(err, bpfhost.ErrInvalid) {
			t.Fatalf("%s: %v", p.Name(), err)
		}
	})
}
