package verifier

import (
	"testing"

	"github.com/bpfhost/bpfhost/platform/linux"
)

// sockAddrSkAttacks attack ctx->sk of sock_addr programs (0038): writes,
// wrong widths and offsets, arithmetic, aliases through the stack,
// helpers that expect other pointers, and leaks. Map 0 is an sk storage
// map with 8-byte values.
var sockAddrSkAttacks = []loadCase{
	{"sk spilled and reloaded, then read", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nstxdw [%r10-8], %r2\nldxdw %r3, [%r10-8]\nldxw %r0, [%r3+4]\nmov %r0, 1\nexit", true},
	{"sk spilled, reloaded and written", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nstxdw [%r10-8], %r2\nldxdw %r3, [%r10-8]\nstw [%r3+16], 1\nmov %r0, 1\nexit", false},
	{"sk spilled, a byte overwritten, reloaded and read", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nstxdw [%r10-8], %r2\nstb [%r10-8], 0\nldxdw %r3, [%r10-8]\nldxw %r0, [%r3+4]\nmov %r0, 1\nexit", false},
	{"sk read as half of a spill", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nstxdw [%r10-8], %r2\nldxw %r3, [%r10-8]\nldxw %r0, [%r3+4]\nmov %r0, 1\nexit", false},
	{"sk written with an atomic add", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nmov %r3, 1\nlock add32 [%r2+16], %r3\nmov %r0, 1\nexit", false},
	{"sk read across the end of struct bpf_sock", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nldxw %r3, [%r2+78]\nmov %r0, 1\nexit", false},
	{"sk read at a negative offset", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nldxw %r3, [%r2-4]\nmov %r0, 1\nexit", false},
	{"sk read misaligned", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nldxw %r3, [%r2+2]\nmov %r0, 1\nexit", false},
	{"sk moved by a variable", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nldxw %r3, [%r1+24]\nand %r3, 4\nadd %r2, %r3\nldxw %r3, [%r2+0]\nmov %r0, 1\nexit", false},
	{"sk moved with a 32-bit add", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nadd32 %r2, 0\nldxw %r3, [%r2+4]\nmov %r0, 1\nexit", false},
	{"sk moved forth and back", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nadd %r2, 8\nadd %r2, -8\nldxw %r3, [%r2+4]\nmov %r0, 1\nexit", false},
	{"sk loaded as 4 bytes", "cgroup/connect4", "ldxw %r2, [%r1+64]\nldxw %r3, [%r2+4]\nmov %r0, 1\nexit", false},
	{"sk stored into its own mark", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nstxw [%r2+16], %r2\nmov %r0, 1\nexit", false},
	{"sk passed to bpf_setsockopt as the context", "cgroup/connect4", "ldxdw %r1, [%r1+64]\nmov %r2, 1\nmov %r3, 36\nstw [%r10-4], 1\nmov %r4, %r10\nadd %r4, -4\nmov %r5, 4\ncall 49\nmov %r0, 1\nexit", false},
	{"sk passed to bpf_get_socket_cookie as the context", "cgroup/connect4", "ldxdw %r1, [%r1+64]\ncall 46\nmov %r0, 1\nexit", false},
	{"sk as the value of bpf_sk_storage_get", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nmov %r3, %r2\nlddw %r1, 0\nmov %r4, 1\ncall 107\nmov %r0, 1\nexit", false},
	{"sk as the map of bpf_sk_storage_get", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nmov %r1, %r2\nmov %r3, 0\nmov %r4, 1\ncall 107\nmov %r0, 1\nexit", false},
	{"sk storage_get with unknown flags", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nlddw %r1, 0\nmov %r3, 0\nmov %r4, 3\ncall 107\nmov %r0, 1\nexit", true},
	{"sk as bpf_bind's address", "cgroup/connect4", "ldxdw %r2, [%r1+64]\nmov %r3, 16\ncall 64\nmov %r0, 1\nexit", false},
	{"sk as the destination of bpf_probe_read_kernel", "cgroup/connect4", "ldxdw %r1, [%r1+64]\nmov %r2, 4\nmov %r3, 0\ncall 113\nmov %r0, 1\nexit", false},
	{"sk released after a NULL check", "cgroup/connect4", "ldxdw %r1, [%r1+64]\njeq %r1, 0, out\ncall 86\nout:\nmov %r0, 1\nexit", false},
}

// TestSockAddrSkAttacks: bpfhost's verifier and Linux's (root; skipped
// otherwise) give each attack on ctx->sk the verdict it expects.
func TestSockAddrSkAttacks(t *testing.T) {
	checkSkStorageCases(t, sockAddrSkAttacks)
}

// TestSockAddrSkLeak: storing ctx->sk's low half into user_ip4 is refused
// as a leak of a host address. Linux 6.18 as root accepts it (privileged
// programs may leak pointers, allow_ptr_leaks): bpfhost is stricter, as
// it is for every pointer stored into the context or a map.
func TestSockAddrSkLeak(t *testing.T) {
	info, _ := linux.Lookup("cgroup/connect4")
	_, err := Verify(assembleMaps(t, "ldxdw %r2, [%r1+64]\nstxw [%r1+4], %r2\nmov %r0, 1\nexit"), Options{Type: info, ABI: linux.ABI()})
	checkVerdict(t, "sk stored into user_ip4", err, "leak")
}
