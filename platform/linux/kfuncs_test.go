package linux

import (
	"testing"

	"github.com/bpfhost/bpfhost/platform"
)

// TestIterNumKfuncs: the Linux ABI binds the open-coded number iterator's
// kfuncs by name, for every program type, with their prototypes.
func TestIterNumKfuncs(t *testing.T) {
	for _, want := range []struct {
		name    string
		id      platform.KfuncID
		arg     platform.ArgKind
		ret     platform.RetKind
		release int
	}{
		{"bpf_iter_num_new", KfuncIterNumNew, platform.ArgUninitIterNum, platform.RetInteger, 0},
		{"bpf_iter_num_next", KfuncIterNumNext, platform.ArgIterNum, platform.RetIterNumOrNull, 0},
		{"bpf_iter_num_destroy", KfuncIterNumDestroy, platform.ArgIterNum, platform.RetVoid, 1},
	} {
		k, ok := ABI().KfuncByName(want.name)
		if !ok || k.ID != want.id || k.Args[0] != want.arg || k.Ret != want.ret || k.Release != want.release || k.ProgramTypes != nil {
			t.Errorf("%s: %+v, %v", want.name, k, ok)
		}
	}
}
