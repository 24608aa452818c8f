package sockaddr

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkRunHook measures what the supervisor adds to a connect besides
// system calls: building the context, running deny_port and writing the
// address back.
func BenchmarkRunHook(b *testing.B) {
	coll := loadTestObject(b)
	l := &Link{}
	a := &attached{Attach: Attach{Type: "cgroup/connect4", Program: coll.Programs["deny_port"]}, hook: hookConnect4}
	l.progs[hookConnect4] = []*attached{a}
	w := newWorker(l)
	w.sock = sock{fd: -1, domain: unix.AF_INET, typ: unix.SOCK_STREAM, protocol: unix.IPPROTO_TCP}
	addr := make([]byte, 16)
	binary.LittleEndian.PutUint16(addr, unix.AF_INET)
	addr[2], addr[3] = 0, 80
	addr[4], addr[7] = 127, 1
	b.ReportAllocs()
	for b.Loop() {
		if _, e := w.runHook(hookConnect4, addr); e != 0 {
			b.Fatal(e)
		}
	}
}
