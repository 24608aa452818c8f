package verifier

import (
	"errors"
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"github.com/bpfhost/bpfhost/platform/linux"
)

// sockAddrLoadCases are cgroup sock_addr and sock programs that Linux's
// verifier accepts or refuses at load time for their attach type
// (sock_addr_is_valid_access, check_return_code, the helpers per attach
// type): bpfhost must give each the same verdict.
var sockAddrLoadCases = []loadCase{
	{"connect4 reads user_ip4", "cgroup/connect4", "ldxw %r2, [%r1+4]\nmov %r0, 1\nexit", true},
	{"connect4 reads a byte of user_port", "cgroup/connect4", "ldxb %r2, [%r1+25]\nmov %r0, 1\nexit", true},
	{"connect4 reads half of user_port", "cgroup/connect4", "ldxh %r2, [%r1+24]\nmov %r0, 1\nexit", true},
	{"connect4 reads user_ip6", "cgroup/connect4", "ldxw %r2, [%r1+8]\nmov %r0, 1\nexit", false},
	{"connect6 reads a byte of user_ip6", "cgroup/connect6", "ldxb %r2, [%r1+11]\nmov %r0, 1\nexit", true},
	{"connect6 reads user_ip6 as a u64", "cgroup/connect6", "ldxdw %r2, [%r1+16]\nmov %r0, 1\nexit", true},
	{"connect6 reads a misaligned u64 of user_ip6", "cgroup/connect6", "ldxdw %r2, [%r1+12]\nmov %r0, 1\nexit", false},
	{"connect6 writes user_ip6 as a u64", "cgroup/connect6", "stdw [%r1+8], 0\nmov %r0, 1\nexit", true},
	{"connect4 writes user_port", "cgroup/connect4", "stw [%r1+24], 0\nmov %r0, 1\nexit", true},
	{"connect4 writes half of user_port", "cgroup/connect4", "sth [%r1+24], 0\nmov %r0, 1\nexit", false},
	{"connect4 writes user_family", "cgroup/connect4", "stw [%r1+0], 2\nmov %r0, 1\nexit", false},
	{"connect4 reads half of family", "cgroup/connect4", "ldxh %r2, [%r1+28]\nmov %r0, 1\nexit", false},
	{"connect4 reads msg_src_ip4", "cgroup/connect4", "ldxw %r2, [%r1+40]\nmov %r0, 1\nexit", false},
	{"sendmsg4 writes msg_src_ip4", "cgroup/sendmsg4", "stw [%r1+40], 0\nmov %r0, 1\nexit", true},
	{"sendmsg4 reads msg_src_ip6", "cgroup/sendmsg4", "ldxw %r2, [%r1+44]\nmov %r0, 1\nexit", false},
	{"sendmsg6 writes msg_src_ip6", "cgroup/sendmsg6", "stw [%r1+56], 0\nmov %r0, 1\nexit", true},
	{"sendmsg6 reads msg_src_ip6 as a u64", "cgroup/sendmsg6", "ldxdw %r2, [%r1+48]\nmov %r0, 1\nexit", true},
	{"sendmsg6 reads a misaligned u64 of msg_src_ip6", "cgroup/sendmsg6", "ldxdw %r2, [%r1+44]\nmov %r0, 1\nexit", false},
	{"recvmsg4 writes user_port", "cgroup/recvmsg4", "stw [%r1+24], 0\nmov %r0, 1\nexit", true},
	{"getpeername6 writes user_ip6", "cgroup/getpeername6", "stw [%r1+20], 0\nmov %r0, 1\nexit", true},
	{"connect4 reads sk", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nmov %r0, 1\nexit", true},
	{"connect4 writes sk", "cgroup/connect4", "stdw [%r1+64], 0\nmov %r0, 1\nexit", false},
	// ctx->sk is PTR_TO_SOCKET: never NULL, read-only struct bpf_sock
	// (bpf_sock_is_valid_access), not a reference.
	{"connect4 reads sk->family", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nldxw %r3, [%r2+4]\nmov %r0, 1\nexit", true},
	{"sendmsg6 reads sk fields narrowly", "cgroup/sendmsg6", "ldxdw %r2, [%r1+64]\nldxb %r3, [%r2+29]\nldxh %r3, [%r2+48]\nldxb %r3, [%r2+49]\nldxw %r3, [%r2+48]\nldxb %r3, [%r2+72]\nldxw %r3, [%r2+76]\nmov %r0, 1\nexit", true},
	{"bind4 reads sk->mark", "cgroup/bind4", "ldxdw %r2, [%r1+64]\nldxw %r3, [%r2+16]\nldxw %r3, [%r2+0]\nldxw %r3, [%r2+20]\nmov %r0, 1\nexit", true},
	{"connect4 reads a byte of sk->mark", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nldxb %r3, [%r2+16]\nmov %r0, 1\nexit", false},
	{"connect4 reads sk->family as a u64", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nldxdw %r3, [%r2+0]\nmov %r0, 1\nexit", false},
	{"connect4 reads past struct bpf_sock", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nldxw %r3, [%r2+80]\nmov %r0, 1\nexit", false},
	{"connect4 reads the padding after dst_port", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nldxh %r3, [%r2+50]\nmov %r0, 1\nexit", false},
	{"connect4 writes sk->mark", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nstw [%r2+16], 1\nmov %r0, 1\nexit", false},
	{"connect4 moves sk", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nadd %r2, 4\nldxw %r3, [%r2+0]\nmov %r0, 1\nexit", false},
	{"connect4 releases sk", "cgroup/connect4", "ldxdw %r1, [%r1+64]\ncall 86\nmov %r0, 1\nexit", false},
	{"connect4 checks sk against NULL", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nmov %r0, 1\njne %r2, 0, out\nmov %r0, 0\nout:\nexit", true},
	{"connect4 returns 2", "cgroup/connect4", "mov %r0, 2\nexit", false},
	{"bind4 returns 3", "cgroup/bind4", "mov %r0, 3\nexit", true},
	{"bind6 returns 4", "cgroup/bind6", "mov %r0, 4\nexit", false},
	{"sendmsg6 returns 0", "cgroup/sendmsg6", "mov %r0, 0\nexit", true},
	{"getpeername4 returns 0", "cgroup/getpeername4", "mov %r0, 0\nexit", false},
	{"getsockname6 returns 1", "cgroup/getsockname6", "mov %r0, 1\nexit", true},
	{"recvmsg6 returns 0", "cgroup/recvmsg6", "mov %r0, 0\nexit", false},
	// bpf_bind (64) from connect programs only.
	{"connect4 calls bpf_bind", "cgroup/connect4", "mov %r2, %r10\nadd %r2, -16\nstdw [%r10-16], 2\nstdw [%r10-8], 0\nmov %r3, 16\ncall 64\nmov %r0, 1\nexit", true},
	{"sendmsg4 calls bpf_bind", "cgroup/sendmsg4", "mov %r2, %r10\nadd %r2, -16\nstdw [%r10-16], 2\nstdw [%r10-8], 0\nmov %r3, 16\ncall 64\nmov %r0, 1\nexit", false},
	{"bind4 calls bpf_bind", "cgroup/bind4", "mov %r2, %r10\nadd %r2, -16\nstdw [%r10-16], 2\nstdw [%r10-8], 0\nmov %r3, 16\ncall 64\nmov %r0, 1\nexit", false},
	// cgroup_sock: sock_create writes mark; post_bind reads the source.
	{"sock_create writes mark", "cgroup/sock_create", "stw [%r1+16], 1\nmov %r0, 1\nexit", true},
	{"sock_create reads src_port", "cgroup/sock_create", "ldxw %r2, [%r1+44]\nmov %r0, 1\nexit", false},
	{"post_bind4 reads src_port", "cgroup/post_bind4", "ldxw %r2, [%r1+44]\nmov %r0, 1\nexit", true},
	{"post_bind4 writes mark", "cgroup/post_bind4", "stw [%r1+16], 1\nmov %r0, 1\nexit", false},
	{"post_bind6 reads src_ip4", "cgroup/post_bind6", "ldxw %r2, [%r1+24]\nmov %r0, 1\nexit", false},
	{"post_bind6 reads src_ip6", "cgroup/post_bind6", "ldxw %r2, [%r1+28]\nmov %r0, 1\nexit", true},
}

// loadCase is a program of a section's type with the verdict Linux gives it.
type loadCase struct {
	name, section, body string
	accept              bool
}

// TestSockAddrLoadRules: bpfhost's verifier and Linux's (root; skipped
// otherwise) give each sock_addr case the verdict it expects.
func TestSockAddrLoadRules(t *testing.T) {
	checkLoadCases(t, sockAddrLoadCases, nil, nil)
}

// checkLoadCases verifies each case (cgroup sock_addr, cgroup sock or
// flow dissector programs) with maps (map 0 is km in the kernel, if any)
// in bpfhost and, as root, in the kernel: both must give the case's
// verdict.
func checkLoadCases(t *testing.T, cases []loadCase, maps []MapInfo, km *ebpf.Map) {
	t.Helper()
	kernel := os.Geteuid() == 0
	for _, c := range cases {
		info, ok := linux.Lookup(c.section)
		if !ok {
			t.Fatalf("no program type %s", c.section)
		}
		prog := assembleMaps(t, c.body)
		_, err := Verify(prog, Options{Type: info, ABI: linux.ABI(), Maps: maps})
		if (err == nil) != c.accept {
			t.Errorf("%s: bpfhost: %v, want accepted %v", c.name, err, c.accept)
		}
		if !kernel {
			continue
		}
		typ := ebpf.CGroupSockAddr
		switch info.Type {
		case linux.CGroupSock:
			typ = ebpf.CGroupSock
		case linux.FlowDissector:
			typ = ebpf.FlowDissector
		}
		checkKernelVerdict(t, c.name, &ebpf.ProgramSpec{Type: typ, AttachType: ebpf.AttachType(info.Attach),
			Instructions: kernelInsns(t, prog, km), License: "GPL"}, c.accept)
	}
}

// checkKernelVerdict loads spec into the kernel: Linux must accept it or
// refuse it as accept says.
func checkKernelVerdict(t *testing.T, name string, spec *ebpf.ProgramSpec, accept bool) {
	t.Helper()
	kp, err := ebpf.NewProgram(spec)
	if kp != nil {
		kp.Close()
	}
	var ve *ebpf.VerifierError
	if err != nil && !errors.As(err, &ve) {
		t.Fatalf("%s: loading into the kernel: %v", name, err)
	}
	if (err == nil) != accept {
		t.Errorf("%s: Linux: %v, want accepted %v", name, err, accept)
	}
}

// skStorageLoadCases call bpf_sk_storage_get (107) and _delete (108) with
// an sk storage map (map 0, 8-byte values) from sock_addr and cgroup_sock
// programs: the socket is ctx->sk in the former and the context itself in
// the latter (bpf_sk_storage_get_cg_sock_proto), the value may be NULL
// and is checked before use.
var skStorageLoadCases = []loadCase{
	{"connect4 gets ctx->sk's value", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nlddw %r1, 0\nmov %r3, 0\nmov %r4, 1\ncall 107\njeq %r0, 0, out\nstdw [%r0+0], 1\nout:\nmov %r0, 1\nexit", true},
	{"connect4 uses the value unchecked", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nlddw %r1, 0\nmov %r3, 0\nmov %r4, 1\ncall 107\nstdw [%r0+0], 1\nmov %r0, 1\nexit", false},
	{"connect4 writes past the value", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nlddw %r1, 0\nmov %r3, 0\nmov %r4, 1\ncall 107\njeq %r0, 0, out\nstdw [%r0+8], 1\nout:\nmov %r0, 1\nexit", false},
	{"connect4 passes its context as the socket", "cgroup/connect4", "mov %r2, %r1\nlddw %r1, 0\nmov %r3, 0\nmov %r4, 0\ncall 107\nmov %r0, 1\nexit", false},
	{"sendmsg4 initialises from the stack", "cgroup/sendmsg4", "ldxdw %r2, [%r1+64]\nstdw [%r10-8], 7\nmov %r3, %r10\nadd %r3, -8\nlddw %r1, 0\nmov %r4, 1\ncall 107\nmov %r0, 1\nexit", true},
	{"sendmsg4 initialises from a short buffer", "cgroup/sendmsg4", "ldxdw %r2, [%r1+64]\nstw [%r10-4], 7\nmov %r3, %r10\nadd %r3, -4\nlddw %r1, 0\nmov %r4, 1\ncall 107\nmov %r0, 1\nexit", false},
	{"bind4 deletes ctx->sk's value", "cgroup/bind4", "ldxdw %r2, [%r1+64]\nlddw %r1, 0\ncall 108\nmov %r0, 1\nexit", true},
	{"sock_create gets its context's value", "cgroup/sock_create", "mov %r2, %r1\nlddw %r1, 0\nmov %r3, 0\nmov %r4, 1\ncall 107\nmov %r0, 1\nexit", true},
	{"sock_create passes a stack pointer as the socket", "cgroup/sock_create", "mov %r2, %r10\nadd %r2, -8\nstdw [%r10-8], 0\nlddw %r1, 0\nmov %r3, 0\nmov %r4, 1\ncall 107\nmov %r0, 1\nexit", false},
	{"sock_create deletes", "cgroup/sock_create", "mov %r2, %r1\nlddw %r1, 0\ncall 108\nmov %r0, 1\nexit", false},
	{"post_bind4 gets its context's value", "cgroup/post_bind4", "mov %r2, %r1\nlddw %r1, 0\nmov %r3, 0\nmov %r4, 0\ncall 107\nmov %r0, 1\nexit", true},
}

// TestSkStorageLoadRules: bpfhost's verifier and Linux's (root; skipped
// otherwise) give each sk storage case the verdict it expects.
func TestSkStorageLoadRules(t *testing.T) {
	checkSkStorageCases(t, skStorageLoadCases)
}

// checkSkStorageCases checks cases whose map 0 is an sk storage map of
// 8-byte values, in bpfhost and (as root) in the kernel.
func checkSkStorageCases(t *testing.T, cases []loadCase) {
	t.Helper()
	var km *ebpf.Map
	if os.Geteuid() == 0 {
		var err error
		km, err = ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.SkStorage, KeySize: 4, ValueSize: 8, Flags: 1,
			Key: &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}, Value: &btf.Int{Name: "u64", Size: 8}})
		if err != nil {
			t.Fatalf("kernel sk storage map: %v", err)
		}
		defer km.Close()
	}
	checkLoadCases(t, cases, []MapInfo{{Name: "stg", Type: linux.MapSkStorage, KeySize: 4, ValueSize: 8}}, km)
}
