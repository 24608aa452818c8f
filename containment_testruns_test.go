package bpfhost

import (
	"encoding/binary"
	"math/rand/v2"

	"github.com/bpfhost/bpfhost/platform"
)

// argsTestRun reports whether a type's test run takes a context of the
// caller's size and no packet (raw_tracepoint, syscall): containedRun runs
// those on random contexts of the descriptor's whole size (runNumbers),
// which covers every size a test run accepts.
func argsTestRun(info *platform.ProgramTypeInfo) bool {
	return info.TestRun == platform.TestRunRawTracepoint || info.TestRun == platform.TestRunSyscall
}

// randomSKLookup returns a struct bpf_sk_lookup that a test run accepts:
// AF_INET or AF_INET6 (mostly), TCP or UDP, random addresses and ports.
func randomSKLookup(rng *rand.Rand) []byte {
	b := make([]byte, 72)
	for i := 8; i < 64; i++ {
		b[i] = byte(rng.Uint32())
	}
	family := []uint32{2, 10}[rng.IntN(2)]
	binary.NativeEndian.PutUint32(b[8:], family)
	binary.NativeEndian.PutUint32(b[12:], []uint32{6, 17, rng.Uint32() & 0xff}[rng.IntN(3)])
	binary.NativeEndian.PutUint32(b[60:], rng.Uint32()&0xffff)
	return b
}
