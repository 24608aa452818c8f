package maps

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// TestTypesFromPlatform checks that map types are platform/linux's table:
// names and per-CPU facts come from it for every number, and New refuses a
// type the table knows but maps does not implement by its name, and a
// number the table does not know as unknown.
func TestTypesFromPlatform(t *testing.T) {
	for n := Type(0); n < 70; n++ {
		info, ok := linux.ABI().MapType(platform.MapType(n))
		wantName, wantPerCPU := fmt.Sprintf("type(%d)", uint32(n)), false
		if ok {
			wantName, wantPerCPU = info.Name, info.PerCPU
		}
		if n.String() != wantName || n.PerCPU() != wantPerCPU {
			t.Errorf("type %d: %q, per-CPU %v; want %q, %v", uint32(n), n, n.PerCPU(), wantName, wantPerCPU)
		}
	}
	_, err := New(Spec{Name: "s", Type: Type(linux.MapSockMap), KeySize: 4, ValueSize: 4, MaxEntries: 1}, 1)
	if !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "sockmap") {
		t.Errorf("sockmap: %v; want not supported, by name", err)
	}
	_, err = New(Spec{Name: "u", Type: 1000, KeySize: 4, ValueSize: 4, MaxEntries: 1}, 1)
	if err == nil || !strings.Contains(err.Error(), "unknown type 1000") {
		t.Errorf("type 1000: %v; want unknown", err)
	}
}
