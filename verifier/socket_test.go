package verifier

import (
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// lookupV4 looks up a TCP socket (helper id, 84 unless changed) by an
// all-zero IPv4 tuple at r10-16 in the current network namespace: r0 is
// the socket or NULL. r1 must hold the context.
const lookupV4 = `stdw [%r10-16], 0
stw [%r10-8], 0
mov %r2, %r10
add %r2, -16
mov %r3, 12
mov %r4, -1
mov %r5, 0
call HELPER
`

// socketCases are socket lookup programs with the verdict Linux gives them
// (TestSocketCasesKernel checks that it does): "" accepted, else a part of
// bpfhost's message.
var socketCases = []struct {
	name, typ, helper, body string
	reject                  string
}{
	{"release after NULL check", "tc", "84", `jeq %r0, 0, out
ldxw %r2, [%r0+4]
mov %r1, %r0
call 86
out:
mov %r0, 0
exit`, ""},
	{"udp lookup", "tc", "85", `jeq %r0, 0, out
ldxw %r2, [%r0+72]
ldxw %r2, [%r0+44]
ldxh %r2, [%r0+48]
ldxb %r2, [%r0+49]
ldxw %r2, [%r0+48]
ldxw %r2, [%r0+40]
ldxb %r2, [%r0+29]
mov %r1, %r0
call 86
out:
mov %r0, 0
exit`, ""},
	{"xdp lookup", "xdp", "84", `jne %r0, 0, rel
mov %r0, 2
exit
rel:
ldxw %r2, [%r0+16]
mov %r1, %r0
call 86
mov %r0, 2
exit`, ""},
	{"spilled and reloaded", "tc", "84", `stxdw [%r10-24], %r0
ldxdw %r6, [%r10-24]
jeq %r6, 0, out
mov %r1, %r6
call 86
out:
mov %r0, 0
exit`, ""},
	{"unreleased", "tc", "84", `jeq %r0, 0, out
ldxw %r2, [%r0+4]
out:
mov %r0, 0
exit`, "Unreleased reference"},
	{"unreleased on one path", "tc", "84", `jeq %r0, 0, out
ldxw %r2, [%r0+4]
jeq %r2, 2, out
mov %r1, %r0
call 86
out:
mov %r0, 0
exit`, "Unreleased reference"},
	{"no NULL check before a read", "tc", "84", `ldxw %r2, [%r0+4]
mov %r0, 0
exit`, "may be NULL"},
	{"no NULL check before release", "tc", "84", `mov %r1, %r0
call 86
mov %r0, 0
exit`, "may be NULL"},
	{"use after release", "tc", "84", `jeq %r0, 0, out
mov %r6, %r0
mov %r1, %r0
call 86
ldxw %r0, [%r6+4]
out:
mov %r0, 0
exit`, "already released"},
	{"double release", "tc", "84", `jeq %r0, 0, out
mov %r6, %r0
mov %r1, %r0
call 86
mov %r1, %r6
call 86
out:
mov %r0, 0
exit`, "already released"},
	{"padding after dst_port", "tc", "84", `jeq %r0, 0, out
ldxh %r2, [%r0+50]
mov %r1, %r0
call 86
out:
mov %r0, 0
exit`, "offset 50"},
	{"8-byte read", "tc", "84", `jeq %r0, 0, out
ldxdw %r2, [%r0+0]
mov %r1, %r0
call 86
out:
mov %r0, 0
exit`, "8-byte"},
	{"narrow read of mark", "tc", "84", `jeq %r0, 0, out
ldxb %r2, [%r0+16]
mov %r1, %r0
call 86
out:
mov %r0, 0
exit`, "field mark allows"},
	{"past the end", "tc", "84", `jeq %r0, 0, out
ldxw %r2, [%r0+80]
mov %r1, %r0
call 86
out:
mov %r0, 0
exit`, "outside"},
	{"write", "tc", "84", `jeq %r0, 0, out
stw [%r0+16], 1
mov %r1, %r0
call 86
out:
mov %r0, 0
exit`, "read-only"},
	{"arithmetic", "tc", "84", `jeq %r0, 0, out
mov %r6, %r0
add %r6, 4
mov %r1, %r0
call 86
out:
mov %r0, 0
exit`, "arithmetic on r6"},
	{"returned", "tc", "84", `jeq %r0, 0, out
exit
out:
mov %r0, 0
exit`, "r0 is a pointer"},
	{"sock_common: family", "tc", "99", `jeq %r0, 0, out
ldxw %r2, [%r0+4]
ldxw %r2, [%r0+24]
mov %r1, %r0
call 86
out:
mov %r0, 0
exit`, ""},
	{"sock_common: no type", "tc", "99", `jeq %r0, 0, out
ldxw %r2, [%r0+8]
mov %r1, %r0
call 86
out:
mov %r0, 0
exit`, "offset 8"},
	{"release of the context's socket", "tc", "84", `mov %r6, %r0
ldxdw %r1, [%r9+168]
jeq %r1, 0, out
call 86
out:
jeq %r6, 0, out2
mov %r1, %r6
call 86
out2:
mov %r0, 0
exit`, "needs a socket from"},
	{"release of a number", "tc", "84", `mov %r6, %r0
mov %r1, 7
call 86
jeq %r6, 0, out
mov %r1, %r6
call 86
out:
mov %r0, 0
exit`, "needs a socket from"},
	{"not in socket filters", "socket", "84", `jeq %r0, 0, out
mov %r1, %r0
call 86
out:
mov %r0, 0
exit`, "not allowed in"},
	{"tail call while held", "tc", "84", `mov %r6, %r0
mov %r1, %r1
lddw %r2, 0
mov %r3, 0
call 12
jeq %r6, 0, out
mov %r1, %r6
call 86
out:
mov %r0, 0
exit`, "would leak the socket"},
	{"two lookups, both released", "tc", "84", `mov %r6, %r0
mov %r1, %r1
mov %r2, %r10
add %r2, -16
mov %r3, 12
mov %r4, -1
mov %r5, 0
call 85
mov %r7, %r0
jeq %r6, 0, a
mov %r1, %r6
call 86
a:
jeq %r7, 0, b
mov %r1, %r7
call 86
b:
mov %r0, 0
exit`, ""},
	{"returned by a subprogram", "tc", "84", `jeq %r0, 0, a
mov %r1, %r0
call 86
a:
mov %r1, %r9
call local f
jeq %r0, 0, out
ldxw %r2, [%r0+4]
mov %r1, %r0
call 86
out:
mov %r0, 0
exit
f:
stdw [%r10-16], 0
stw [%r10-8], 0
mov %r2, %r10
add %r2, -16
mov %r3, 12
mov %r4, -1
mov %r5, 0
call 84
exit`, ""},
	{"dropped by a subprogram", "tc", "84", `jeq %r0, 0, a
mov %r1, %r0
call 86
a:
mov %r1, %r9
call local f
mov %r0, 0
exit
f:
stdw [%r10-16], 0
stw [%r10-8], 0
mov %r2, %r10
add %r2, -16
mov %r3, 12
mov %r4, -1
mov %r5, 0
call 84
mov %r0, 0
exit`, "Unreleased reference"},
	{"either lookup, joined", "tc", "84", `jeq %r0, 0, a
mov %r1, %r0
call 86
a:
call 7
jgt %r0, 100, udp
mov %r1, %r9
mov %r2, %r10
add %r2, -16
mov %r3, 12
mov %r4, -1
mov %r5, 0
call 84
ja join
udp:
mov %r1, %r9
mov %r2, %r10
add %r2, -16
mov %r3, 12
mov %r4, -1
mov %r5, 0
call 85
join:
jeq %r0, 0, out
ldxw %r2, [%r0+4]
mov %r1, %r0
call 86
out:
mov %r0, 0
exit`, ""},
	{"either lookup, one released twice", "tc", "84", `jeq %r0, 0, a
mov %r1, %r0
call 86
a:
mov %r1, %r9
mov %r2, %r10
add %r2, -16
mov %r3, 12
mov %r4, -1
mov %r5, 0
call 84
mov %r6, %r0
mov %r1, %r9
mov %r2, %r10
add %r2, -16
mov %r3, 12
mov %r4, -1
mov %r5, 0
call 85
mov %r7, %r0
call 7
mov %r8, %r6
jgt %r0, 100, b
mov %r8, %r7
b:
jeq %r6, 0, c
mov %r1, %r6
call 86
c:
jeq %r7, 0, d
mov %r1, %r7
call 86
d:
jeq %r8, 0, out
ldxw %r0, [%r8+4]
out:
mov %r0, 0
exit`, "r8"},
}

// socketCaseProgram assembles a case; the lddw of a map refers to map 0
// (a program array in the kernel check).
func socketCaseProgram(t *testing.T, helper, body string) []isa.Instruction {
	t.Helper()
	src := strings.ReplaceAll(lookupV4, "HELPER", helper) + body
	// r1 keeps the context until the first call; cases that call again
	// after it restore it from r9.
	src = "mov %r9, %r1\n" + strings.ReplaceAll(src, "mov %r1, %r1\n", "mov %r1, %r9\n")
	return assembleMaps(t, src)
}

func socketCaseType(t *testing.T, typ string) string {
	switch typ {
	case "tc":
		return "tc"
	case "xdp":
		return "xdp"
	}
	return "socket"
}

// TestSocketLookups: the verifier's rules for referenced sockets (socket.go).
func TestSocketLookups(t *testing.T) {
	maps := []MapInfo{{Name: "jmp", Type: linux.MapProgArray, KeySize: 4, ValueSize: 4, MaxEntries: 1}}
	for _, c := range socketCases {
		info, ok := linux.Lookup(socketCaseType(t, c.typ))
		if !ok {
			t.Fatalf("no program type %s", c.typ)
		}
		_, err := Verify(socketCaseProgram(t, c.helper, c.body), Options{Type: info, ABI: linux.ABI(), Maps: maps})
		checkVerdict(t, c.name, err, c.reject)
	}
}
