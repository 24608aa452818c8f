package bpfhost

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// TestFibLookupKernel asks bpfhost's bpf_fib_lookup and the kernel's the
// same questions (testdata/xdptools/fib.c: the parameters and flags come
// from a map, the result and the parameters after the call go to another)
// and wants the same answers, byte for byte. The questions avoid what can
// change between the two runs: neighbour entries (BPF_FIB_LOOKUP_SKIP_NEIGH
// wherever a host, whatever its routes and forwarding settings, may have a
// route; the others stop at a local or loopback destination first), so
// only routes, links and sysctls, which nothing changes during the test,
// decide.
func TestFibLookupKernel(t *testing.T) {
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here: %v", err)
	}
	kc, c := fibCollections(t)

	dev := defaultRouteDevice(t)
	type query = fibQuery
	queries := []query{
		{family: 99, ifindex: 1, dst: "127.0.0.1"},                      // -EAFNOSUPPORT
		{family: 2, ifindex: 1, dst: "127.0.0.1", flags: 1 << 7},        // bad flag: -EINVAL
		{family: 2, ifindex: 1, dst: "127.0.0.1", plen: 32},             // short: -EINVAL
		{family: 2, ifindex: 1 << 30, dst: "127.0.0.1", flags: output},  // -ENODEV
		{family: 2, ifindex: 1, dst: "127.0.0.1"},                       // lo: forwarding off, or local
		{family: 2, ifindex: 1, dst: "127.0.0.1", flags: output},        // local: not forwarded
		{family: 10, ifindex: 1, dst: "::1", flags: output | skipNeigh}, // local
		{family: 10, ifindex: 1, dst: "::1"},
		{family: 10, ifindex: 1, dst: "2001:db8::1", flags: skipNeigh},
		{family: 10, ifindex: 1, dst: "2001:db8::1", flags: output | skipNeigh},
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
			query{family: 10, ifindex: ix, dst: "2001:db8::1", flags: skipNeigh},
		)
	}
	for _, q := range queries {
		compareFib(t, kc, c, q)
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

// BPF_FIB_LOOKUP_* flags for the tests' questions.
const (
	direct, output, skipNeigh, src = 1, 2, 4, 16
)

// fibQuery is one question to bpf_fib_lookup (testdata/xdptools/fib.c).
type fibQuery struct {
	family  byte
	ifindex uint32
	dst     string
	totLen  uint16
	flags   uint32
	plen    uint32
}

// compareFib asks the kernel's collection kc and bpfhost's c the query q
// and fails the test where the answers differ. It may run on a goroutine
// of its own: it never stops the test.
func compareFib(t *testing.T, kc *ebpf.Collection, c *Collection, q fibQuery) {
	t.Helper()
	in := make([]byte, 72)
	in[0] = q.family
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
		t.Error(err)
		return
	}
	if _, err := kc.Programs["fib_query"].Run(&ebpf.RunOptions{Data: make([]byte, 64)}); err != nil {
		t.Error(err)
		return
	}
	kout := make([]byte, 72)
	if err := kc.Maps["out"].Lookup(uint32(0), &kout); err != nil {
		t.Error(err)
		return
	}
	if err := c.Maps["in"].Put(uint32(0), in); err != nil {
		t.Error(err)
		return
	}
	if _, err := c.Programs["fib_query"].Run(&RunOptions{Data: make([]byte, 64)}); err != nil {
		t.Error(err)
		return
	}
	bout, err := c.Maps["out"].LookupBytes(uint32(0))
	if err != nil {
		t.Error(err)
		return
	}
	kret, bret := int64(binary.NativeEndian.Uint64(kout[64:])), int64(binary.NativeEndian.Uint64(bout[64:]))
	t.Logf("%+v: kernel %d, bpfhost %d", q, kret, bret)
	if string(kout) != string(bout) {
		t.Errorf("%+v:\nkernel  %d %s\nbpfhost %d %s", q, kret, hex.EncodeToString(kout[:64]), bret, hex.EncodeToString(bout[:64]))
	}
}

// TestFibLookupKernelForwarding asks both lookups about routes that
// forward, in a network namespace of the test's own (forwarding on, a veth
// pair, routes through a gateway with a permanent neighbour entry, an MTU
// on one route, blackhole, unreachable and prohibit routes, IPv4 and
// IPv6): the answers, including the MAC addresses, the gateway, the
// metric, the MTU and the source address, must be the same. Nothing else
// uses the namespace and its neighbour entries are permanent, so the
// answers cannot change between the two runs.
func TestFibLookupKernelForwarding(t *testing.T) {
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here: %v", err)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no ip command")
	}
	ns := fmt.Sprintf("bpfhost-fib-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("cannot add a network namespace: %v: %s", err, out)
	}
	defer exec.Command("ip", "netns", "del", ns).Run()
	for _, cmd := range []string{
		"link set lo up",
		"link add v0 type veth peer name v1",
		"link set v0 address 02:00:00:00:00:01 mtu 1500 up",
		"link set v1 up",
		"addr add 10.9.0.1/24 dev v0",
		"route add 198.51.100.0/24 via 10.9.0.2 dev v0 metric 7",
		"route add 203.0.113.0/24 via 10.9.0.2 dev v0 mtu 1400",
		"route add 198.18.0.0/24 via 10.9.0.2 dev v0 mtu lock 1400",
		"route add blackhole 192.0.2.128/25",
		"route add unreachable 192.0.2.64/26",
		"route add prohibit 192.0.2.32/27",
		"neigh add 10.9.0.2 lladdr 02:00:00:00:00:02 dev v0 nud permanent",
		"-6 addr add 2001:db8:9::1/64 dev v0 nodad",
		"-6 route add 2001:db8:100::/48 via 2001:db8:9::2 dev v0",
		"-6 neigh add 2001:db8:9::2 lladdr 02:00:00:00:00:02 dev v0 nud permanent",
	} {
		args := append([]string{"-n", ns}, strings.Fields(cmd)...)
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Skipf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	for _, sysctl := range []string{"net.ipv4.conf.all.forwarding=1", "net.ipv6.conf.all.forwarding=1"} {
		if out, err := exec.Command("ip", "netns", "exec", ns, "sysctl", "-qw", sysctl).CombinedOutput(); err != nil {
			t.Skipf("sysctl %s: %v: %s", sysctl, err, out)
		}
	}
	kc, c := fibCollections(t)

	// Both runs and bpfhost's netlink questions happen on one OS thread
	// that joined the namespace; the thread is never unlocked, so it ends
	// with the goroutine instead of returning to the scheduler.
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		f, err := os.Open("/run/netns/" + ns)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			t.Errorf("setns: %v", err)
			return
		}
		v0, err := net.InterfaceByName("v0")
		if err != nil {
			t.Error(err)
			return
		}
		ix := uint32(v0.Index)
		for _, q := range []fibQuery{
			{family: 2, ifindex: ix, dst: "198.51.100.7"},
			{family: 2, ifindex: ix, dst: "198.51.100.7", flags: skipNeigh},
			{family: 2, ifindex: ix, dst: "198.51.100.7", flags: src},
			{family: 2, ifindex: ix, dst: "198.51.100.7", flags: output | direct},
			{family: 2, ifindex: ix, dst: "203.0.113.9", totLen: 1450}, // FRAG_NEEDED, mtu 1400
			{family: 2, ifindex: ix, dst: "203.0.113.9", totLen: 1000},
			{family: 2, ifindex: ix, dst: "198.18.0.9", totLen: 1450}, // locked: FRAG_NEEDED, mtu 1400
			{family: 2, ifindex: ix, dst: "198.18.0.9", totLen: 1000},
			{family: 2, ifindex: ix, dst: "10.9.0.77"},   // on the link, no neighbour
			{family: 2, ifindex: ix, dst: "192.0.2.200"}, // blackhole
			{family: 2, ifindex: ix, dst: "192.0.2.100"}, // unreachable
			{family: 2, ifindex: ix, dst: "192.0.2.40"},  // prohibit
			{family: 2, ifindex: ix, dst: "10.9.0.1"},    // local
			{family: 2, ifindex: ix, dst: "100.64.0.1"},  // no route
			{family: 10, ifindex: ix, dst: "2001:db8:100::5"},
			{family: 10, ifindex: ix, dst: "2001:db8:100::5", flags: src | skipNeigh},
			{family: 10, ifindex: ix, dst: "2001:db8:100::5", totLen: 1600},
			{family: 10, ifindex: ix, dst: "fe80::1"},
			{family: 10, ifindex: ix, dst: "2001:db8:dead::1"},
		} {
			compareFib(t, kc, c, q)
		}
	}()
	<-done
}

// fibCollections loads testdata/xdptools/fib.o in the kernel and in
// bpfhost; both are closed when the test ends.
func fibCollections(t *testing.T) (*ebpf.Collection, *Collection) {
	return bothCollections(t, "testdata/xdptools/fib.o")
}

// bothCollections loads the object at path in the kernel (skipping the
// test if it cannot) and in bpfhost; both are closed when the test ends.
func bothCollections(t *testing.T, path string) (*ebpf.Collection, *Collection) {
	kspec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := ebpf.NewCollection(kspec)
	if err != nil {
		t.Skipf("the kernel cannot load %s: %v", path, err)
	}
	t.Cleanup(func() { kc.Close() })
	spec, err := LoadCollectionSpec(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return kc, c
}

// TestCheckMTUKernel asks bpfhost's bpf_check_mtu and the kernel's the
// same questions (testdata/xdptools/mtu.c) about this host's interfaces,
// in XDP test runs of a 64-byte packet on loopback, and wants the same
// result and *mtu_len.
func TestCheckMTUKernel(t *testing.T) {
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here: %v", err)
	}
	kc, c := bothCollections(t, "testdata/xdptools/mtu.o")
	type query struct {
		ifindex, mtuLen uint32
		lenDiff         int32
		flags           uint32
	}
	queries := []query{
		{}, {flags: 1}, {ifindex: 1 << 30}, {mtuLen: 1500}, {mtuLen: 70000}, {lenDiff: 65536}, {lenDiff: -30},
	}
	if dev := defaultRouteDevice(t); dev != nil {
		ix := uint32(dev.Index)
		queries = append(queries, query{ifindex: ix}, query{ifindex: ix, mtuLen: uint32(dev.MTU)},
			query{ifindex: ix, mtuLen: uint32(dev.MTU) + 1}, query{ifindex: ix, lenDiff: int32(dev.MTU)})
	}
	for _, q := range queries {
		in := make([]byte, 16)
		binary.NativeEndian.PutUint32(in[0:], q.ifindex)
		binary.NativeEndian.PutUint32(in[4:], q.mtuLen)
		binary.NativeEndian.PutUint32(in[8:], uint32(q.lenDiff))
		binary.NativeEndian.PutUint32(in[12:], q.flags)
		if err := kc.Maps["in"].Put(uint32(0), in); err != nil {
			t.Fatal(err)
		}
		if _, err := kc.Programs["mtu_query"].Run(&ebpf.RunOptions{Data: make([]byte, 64)}); err != nil {
			t.Fatal(err)
		}
		kout := make([]byte, 16)
		if err := kc.Maps["out"].Lookup(uint32(0), &kout); err != nil {
			t.Fatal(err)
		}
		if err := c.Maps["in"].Put(uint32(0), in); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Programs["mtu_query"].Run(&RunOptions{Data: make([]byte, 64)}); err != nil {
			t.Fatal(err)
		}
		bout, err := c.Maps["out"].LookupBytes(uint32(0))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%+v: kernel %d mtu %d, bpfhost %d mtu %d", q, int64(binary.NativeEndian.Uint64(kout)), binary.NativeEndian.Uint32(kout[8:]),
			int64(binary.NativeEndian.Uint64(bout)), binary.NativeEndian.Uint32(bout[8:]))
		if string(kout) != string(bout) {
			t.Errorf("%+v: kernel %x, bpfhost %x", q, kout, bout)
		}
	}
}
