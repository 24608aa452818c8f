package verifier

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/platform/linux"
)

// callExitCase is an XDP program whose subprogram get writes a map value
// pointer into its caller's stack slot r10-8 and returns 1, or returns 0
// without writing it (test_xdp_noinline.c's get_packet_dst, whose caller
// drops the packet when it fails); main, with map 0 (fuzzMaps' arr).
type callExitCase struct {
	name, main string
	accept     bool
}

// callExitGet is the subprogram of callExitCases.
const callExitGet = `
get:
mov %r6, %r1
call 7
and %r0, 7
stxw [%r10-4], %r0
mov %r2, %r10
add %r2, -4
lddw %r1, 0
call 1
jeq %r0, 0, fail
stxdw [%r6+0], %r0
mov %r0, 1
exit
fail:
mov %r0, 0
exit`

// callExitCases: the caller uses the slot where the call succeeded, as
// Linux allows (each return is followed apart), and variants that use it
// where it failed or without asking.
var callExitCases = []callExitCase{
	{"the slot is used where get succeeded", `
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
call local get
jeq %r0, 0, out
ldxdw %r1, [%r10-8]
ldxb %r0, [%r1+15]
out:
mov %r0, 2
exit`, true},
	{"the slot is used where get failed", `
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
call local get
jne %r0, 0, out
ldxdw %r1, [%r10-8]
ldxb %r0, [%r1+0]
out:
mov %r0, 2
exit`, false},
	{"the slot is used whatever get returned", `
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
call local get
ldxdw %r1, [%r10-8]
ldxb %r0, [%r1+0]
mov %r0, 2
exit`, false},
	{"the value is read past its end where get succeeded", `
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
call local get
jeq %r0, 0, out
ldxdw %r1, [%r10-8]
ldxb %r0, [%r1+16]
out:
mov %r0, 2
exit`, false},
	{"two calls, each used where it succeeded", `
stdw [%r10-8], 0
stdw [%r10-16], 0
mov %r1, %r10
add %r1, -8
call local get
mov %r7, %r0
mov %r1, %r10
add %r1, -16
call local get
jeq %r0, 0, out
jeq %r7, 0, out
ldxdw %r1, [%r10-8]
ldxb %r0, [%r1+0]
ldxdw %r1, [%r10-16]
ldxb %r0, [%r1+0]
out:
mov %r0, 2
exit`, true},
	{"two calls, the first used where only the second succeeded", `
stdw [%r10-8], 0
stdw [%r10-16], 0
mov %r1, %r10
add %r1, -8
call local get
mov %r7, %r0
mov %r1, %r10
add %r1, -16
call local get
jeq %r0, 0, out
ldxdw %r1, [%r10-8]
ldxb %r0, [%r1+0]
out:
mov %r0, 2
exit`, false},
}

// callExitMaybe is the subprogram of callExitMaybeCases: it leaves the
// caller's slot r10-8 as it is (NULL) on one path and stores a lookup's
// result there, unchecked, on the other (test_xdp_noinline.c's
// connection_table_lookup).
const callExitMaybe = `
get:
mov %r6, %r1
call 7
jeq %r0, 5, early
and %r0, 7
stxw [%r10-4], %r0
mov %r2, %r10
add %r2, -4
lddw %r1, 0
call 1
stxdw [%r6+0], %r0
exit
early:
mov %r0, 0
exit`

// callExitMaybeCases: the caller tests a reload of the slot and reloads
// it again to use it, as Linux allows (the NULL test of one copy decides
// the others: the returns, and the paths after them, are kept apart, as
// joining NULL with the stored pointer loses the id that ties them), and
// variants that use it where the test found NULL or without a test.
var callExitMaybeCases = []callExitCase{
	{"a reload of the slot, tested, and another reload used", `
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
call local get
ldxdw %r1, [%r10-8]
jne %r1, 0, use
mov %r0, 2
exit
use:
ldxdw %r7, [%r10-8]
ldxb %r0, [%r7+0]
mov %r0, 2
exit`, true},
	{"a reload of the slot, tested, and another reload used where it was NULL", `
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
call local get
ldxdw %r1, [%r10-8]
jeq %r1, 0, use
mov %r0, 2
exit
use:
ldxdw %r7, [%r10-8]
ldxb %r0, [%r7+0]
mov %r0, 2
exit`, false},
	{"the slot used untested", `
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
call local get
ldxdw %r7, [%r10-8]
ldxb %r0, [%r7+0]
mov %r0, 2
exit`, false},
}

// callExitProgram assembles a case with its subprogram sub.
func callExitProgram(c callExitCase, sub string) string {
	return strings.TrimSpace(c.main) + "\n" + strings.TrimSpace(sub)
}

// callExitAll are the cases of both subprograms, with the subprogram of
// each.
func callExitAll() (cases []callExitCase, subs []string) {
	for _, c := range callExitCases {
		cases, subs = append(cases, c), append(subs, callExitGet)
	}
	for _, c := range callExitMaybeCases {
		cases, subs = append(cases, c), append(subs, callExitMaybe)
	}
	return cases, subs
}

// TestCallExitsApart: bpfhost gives each of callExitCases and
// callExitMaybeCases its verdict (the accepted ones were refused before
// callexits.go kept a call's returns apart and paths.go counted the id a
// join with NULL drops: the slot was "maybe NULL" on every path), and the
// accepted ones run in the checked interpreter with the containment
// oracle (get fails or succeeds as bpf_get_prandom_u32 picks a key in or past the array).
// TestCallExitsApartKernel holds the verdicts to Linux's.
func TestCallExitsApart(t *testing.T) {
	info := xdpInfo(t)
	cases, subs := callExitAll()
	for i, c := range cases {
		prog := assembleMaps(t, callExitProgram(c, subs[i]))
		_, err := Verify(prog, Options{Type: info, ABI: linux.ABI(), Maps: fuzzMaps})
		if (err == nil) != c.accept {
			t.Errorf("%s: %v, want accepted %v", c.name, err, c.accept)
			continue
		}
		if !c.accept {
			continue
		}
		h := &harness{t: t, info: info, rng: rand.New(rand.NewPCG(uint64(i), 5))}
		for range 30 {
			if v := h.try(prog, fuzzMaps); v != nil {
				h.fail(v)
				break
			}
		}
		if h.accepted == 0 {
			t.Errorf("%s: the harness did not run it", c.name)
		}
	}
}
