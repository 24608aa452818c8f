package verifier

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// sockViewCase is a tc program that reads a view of its packet's socket
// (__sk_buff.sk at 168, a struct bpf_sock_common pointer or NULL); "FULL",
// "TCP" and "LOOKUP" in its text stand for bpf_sk_fullsock,
// bpf_tcp_sock and bpf_sk_lookup_tcp.
type sockViewCase struct {
	name, text string
	accept     bool
	// notLinux: Linux accepts it; bpfhost refuses, for this reason.
	notLinux string
}

// sockViewCases: the shapes of the selftests' verifier_sock.c.
var sockViewCases = []sockViewCase{
	{"the full socket's type", `
ldxdw %r1, [%r1+168]
jeq %r1, 0, out
call FULL
jeq %r0, 0, out
ldxw %r0, [%r0+8]
out:
mov %r0, 0
exit`, true, ""},
	{"the TCP socket's snd_cwnd", `
ldxdw %r1, [%r1+168]
jeq %r1, 0, out
call TCP
jeq %r0, 0, out
ldxw %r0, [%r0+0]
out:
mov %r0, 0
exit`, true, ""},
	{"the socket unchecked", `
ldxdw %r1, [%r1+168]
call FULL
jeq %r0, 0, out
ldxw %r0, [%r0+8]
out:
mov %r0, 0
exit`, false, ""},
	{"the full socket unchecked", `
ldxdw %r1, [%r1+168]
jeq %r1, 0, out
call FULL
ldxw %r0, [%r0+8]
out:
mov %r0, 0
exit`, false, ""},
	{"the type of the sock_common itself", `
ldxdw %r1, [%r1+168]
jeq %r1, 0, out
ldxw %r0, [%r1+8]
out:
mov %r0, 0
exit`, false, ""},
	{"a write to the full socket", `
ldxdw %r1, [%r1+168]
jeq %r1, 0, out
call FULL
jeq %r0, 0, out
stw [%r0+16], 1
out:
mov %r0, 0
exit`, false, ""},
	{"a read past the TCP socket", `
ldxdw %r1, [%r1+168]
jeq %r1, 0, out
call TCP
jeq %r0, 0, out
ldxw %r0, [%r0+512]
out:
mov %r0, 0
exit`, false, ""},
	{"a number as the socket", `
mov %r1, 4096
call FULL
mov %r0, 0
exit`, false, ""},
	{"a view of a looked-up socket", `
mov %r6, %r1
stdw [%r10-8], 0
stdw [%r10-16], 0
stdw [%r10-24], 0
stdw [%r10-32], 0
stdw [%r10-40], 0
mov %r2, %r10
add %r2, -40
mov %r3, 36
mov %r4, -1
mov %r5, 0
call LOOKUP
jeq %r0, 0, out
mov %r7, %r0
mov %r1, %r0
call FULL
mov %r1, %r7
call RELEASE
out:
mov %r0, 0
exit`, false, "Linux ties the view to the lookup's reference; bpfhost refuses a view of a referenced socket"},
}

// sockViewProgram assembles a case.
func sockViewProgram(t *testing.T, c sockViewCase) []isa.Instruction {
	t.Helper()
	text := strings.NewReplacer(
		"FULL", fmt.Sprint(int(linux.FnSkFullsock)),
		"TCP", fmt.Sprint(int(linux.FnTcpSock)),
		"LOOKUP", fmt.Sprint(int(linux.FnSkLookupTcp)),
		"RELEASE", fmt.Sprint(int(linux.FnSkRelease)),
	).Replace(c.text)
	prog, err := isa.Assemble(text)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	return prog
}

// TestSocketViews: bpfhost gives each of sockViewCases its verdict; the
// accepted ones were refused before sockcommon.go ("takes a sock_common
// argument, which bpfhost does not support").
func TestSocketViews(t *testing.T) {
	info, ok := linux.Lookup("tc")
	if !ok {
		t.Fatal("no tc program type")
	}
	for _, c := range sockViewCases {
		_, err := Verify(sockViewProgram(t, c), Options{Type: info, ABI: linux.ABI()})
		if (err == nil) != c.accept {
			t.Errorf("%s: %v, want accepted %v", c.name, err, c.accept)
		}
	}
}
