package verifier

import (
	"testing"

	"github.com/bpfhost/bpfhost/platform/linux"
)

// innerLookups looks up the inner maps at keys 0 and 1 of map 1 (a
// map-in-map) and key 0 of each: r6 and r0 are the two values, of two
// maps.
const innerLookups = `
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 1
call 1
jeq %r0, 0, out
mov %r1, %r0
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
mov %r6, %r0
stw [%r10-4], 1
mov %r2, %r10
add %r2, -4
lddw %r1, 1
call 1
jeq %r0, 0, out
mov %r1, %r0
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
`

// TestInnerTemplateAliased: an inner map template that is one of
// Options.Maps (Inner: &maps[0]) stands for many maps all the same: the
// values of two inner maps are not one object, though the template has
// one element (their difference used as an offset was accepted: it was
// taken for their offsets' difference, 0), and a frozen template's bytes
// say nothing of theirs. The root package copies templates; a direct
// caller of Verify need not.
func TestInnerTemplateAliased(t *testing.T) {
	tests := []struct{ name, use string }{
		{"the difference of two inner maps' values as a stack offset", `
sub %r0, %r6
mov %r1, %r10
add %r1, -16
add %r1, %r0
stdw [%r1+0], 0
out:
mov %r0, 2
exit`},
		{"an inner map's bytes as a stack offset", `
ldxdw %r2, [%r0+0]
mov %r1, %r10
add %r1, -16
add %r1, %r2
stdw [%r1+0], 0
out:
mov %r0, 2
exit`},
	}
	for _, tt := range tests {
		maps := make([]MapInfo, 2)
		maps[0] = MapInfo{Name: "one", Type: linux.MapArray, KeySize: 4, ValueSize: 16, MaxEntries: 1,
			ReadOnlyProg: true, Constant: make([]byte, 16)}
		maps[1] = MapInfo{Name: "outer", Type: linux.MapArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 2, Inner: &maps[0]}
		if _, err := Verify(assembleMaps(t, innerLookups+tt.use), Options{Type: xdpInfo(t), ABI: linux.ABI(), Maps: maps}); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}
