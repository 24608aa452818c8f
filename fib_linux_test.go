package bpfhost

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
)

// TestFibLookupKernel asks bpfhost's bpf_fib_lookup and the kernel's the
// same questions (testdata/xdptools/fib.c: the parameters and flags come
// from a map, the result and the parameters after the call go to another)
// and wants the same answers, byte for byte. The questions avoid what can
// change between the two runs: neighbour entries (BPF_FIB_LOOKUP_SKIP_NEIGH
// wherever a route is found), so only routes, links and sysctls, which
// nothing changes during the test, decide.
func TestFibLookupKernel(t *testing.T) {
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here: %v", err)
	}
	kspec, err := ebpf.LoadCollectionSpec("testdata/xdptools/fib.o")
	if err != nil {
		t.Fatal(err)
	}
	kc, err := ebpf.NewCollection(kspec)
	if err != nil {
		t.Skipf("the kernel cannot load fib.o: %v", err)
	}
	defer kc.Close()
	spec, err := LoadCollectionSpec("testdata/xdptools/fib.o")
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	dev := defaultRouteDevice(t)
	const (
		direct, output, skipNeigh, tbid, src = 1, 2, 4, 8, 16
	)
	type query struct {
		family  byte
		ifindex uint32
		dst     string
		totLen  uint16
		flags   uint32
		plen    uint32
	}
	queries := []query{
		{family: 99, ifindex: 1, dst: "127.0.0.1"},                      // -EAFNOSUPPORT
		{family: 2, ifindex: 1, dst: "127.0.0.1", flags: 1 << 7},        // bad flag: -EINVAL
		{family: 2, ifindex: 1, dst: "127.0.0.1", plen: 32},             // short: -EINVAL
		{family: 2, ifindex: 1 << 30, dst: "127.0.0.1", flags: output},  // -ENODEV
		{family: 2, ifindex: 1, dst: "127.0.0.1"},                       // lo: forwarding off, or local
		{family: 2, ifindex: 1, dst: "127.0.0.1", flags: output},        // local: not forwarded
		{family: 10, ifindex: 1, dst: "::1", flags: output | skipNeigh}, // local
		{family: 10, ifindex: 1, dst: "::1"},
		{family: 10, ifindex: 1, dst: "2001:db8::1"},
		{family: 10, ifindex: 1, dst: "2001:db8::1", flags: output},
	}
	if dev != nil {
		t.Logf("default route through %s (%d)", dev.Name, dev.Index)
		ix := uint32(dev.Index)
		queries = append(queries,
			query{family: 2, ifindex: ix, dst: "198.51.100.7", flags: output | skipNeigh},
			query{family: 2, ifindex: ix, dst: "198.51.100.7", flags: output | skipNeigh | src},
			query{family: 2, ifindex: ix, dst: "198.51.100.7", flags: output | skipNeigh | direct},
			query{family: 2, ifindex: ix, dst: "198.51.100.7", flags: output | skipNeigh, totLen: 65000}, // FRAG_NEEDED
			query{family: 2, ifindex: ix, dst: "198.51.100.7", flags: output | skipNeigh, totLen: 1000},
			query{family: 2, ifindex: ix, dst: "198.51.100.7", flags: skipNeigh}, // forwarding on the device?
			query{family: 10, ifindex: ix, dst: "::1"},
			query{family: 10, ifindex: ix, dst: "2001:db8::1"},
		)
	}
	for _, q := range queries {
		in := make([]byte, 72)
		in[0] = q.family
		binary.BigEndian.PutUint16(in[6:], 0)
		binary.NativeEndian.PutUint16(in[6:], q.totLen)
		binary.NativeEndian.PutUint32(in[8:], q.ifindex)
		ip := net.ParseIP(q.dst)
		if ip4 := ip.To4(); ip4 != nil && q.family != 10 {
			copy(in[32:], ip4)
		} else {
			copy(in[32:], ip.To16())
		}
		binary.NativeEndian.PutUint32(in[64:], q.flags)
		binary.NativeEndian.PutUint32(in[68:], q.plen)

		if err := kc.Maps["in"].Put(uint32(0), in); err != nil {
			t.Fatal(err)
		}
		if _, err := kc.Programs["fib_query"].Run(&ebpf.RunOptions{Data: make([]byte, 64)}); err != nil {
			t.Fatal(err)
		}
		kout := make([]byte, 72)
		if err := kc.Maps["out"].Lookup(uint32(0), &kout); err != nil {
			t.Fatal(err)
		}
		if err := c.Maps["in"].Put(uint32(0), in); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Programs["fib_query"].Run(&RunOptions{Data: make([]byte, 64)}); err != nil {
			t.Fatal(err)
		}
		bout, err := c.Maps["out"].LookupBytes(uint32(0))
		if err != nil {
			t.Fatal(err)
		}
		kret, bret := int64(binary.NativeEndian.Uint64(kout[64:])), int64(binary.NativeEndian.Uint64(bout[64:]))
		t.Logf("%+v: kernel %d, bpfhost %d", q, kret, bret)
		if string(kout) != string(bout) {
			t.Errorf("%+v:\nkernel  %d %s\nbpfhost %d %s", q, kret, hex.EncodeToString(kout[:64]), bret, hex.EncodeToString(bout[:64]))
		}
	}
}

// defaultRouteDevice returns the interface of the IPv4 default route, or
// nil if there is none.
func defaultRouteDevice(t *testing.T) *net.Interface {
	f, err := os.Open("/proc/net/route")
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 2 && fields[1] == "00000000" {
			ifc, err := net.InterfaceByName(fields[0])
			if err == nil {
				return ifc
			}
		}
	}
	return nil
}
