//go:build linux

// Package netnstest builds network topologies for tests: namespaces with
// veth pairs, created under unique names and removed when the test ends,
// also on failure. Tests skip (with the reason) where namespaces cannot be
// made.
package netnstest

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost/internal/ethtool"
)

// NS is a network namespace a test created; Close removes it (and the
// veth ends inside it).
type NS struct {
	Name string
	fd   int
}

var nsCounter atomic.Uint32

// Uniq returns a short name unique to this process and call, for
// namespaces and interfaces (at most 15 bytes with a prefix of up to 3).
// Test binaries of several packages run at once and name their namespaces
// in one directory (/run/netns), so the process ID is written whole and
// apart from the counter: "bx" with PID 123 and call 45 is "bx3f.19", never
// the name of PID 1234's call 5 ("bxya.5"), as "bx12345" was both.
func Uniq(prefix string) string {
	return prefix + uniqSuffix(os.Getpid(), nsCounter.Add(1))
}

// uniqSuffix writes pid and n in base 36 with a dot between them: a PID
// (at most 2^22 on Linux) takes 5 digits, the calls of one process 4 or
// fewer, 10 bytes in all.
func uniqSuffix(pid int, n uint32) string {
	return strconv.FormatUint(uint64(pid), 36) + "." + strconv.FormatUint(uint64(n), 36)
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// Require skips the test unless namespaces and veth pairs can be made.
func Require(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("network namespace tests are not short")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("skipping: the ip command (iproute2) is missing")
	}
	name := Uniq("bxp")
	if err := ipCmd("netns", "add", name); err != nil {
		t.Skipf("skipping: cannot create network namespaces (needs CAP_SYS_ADMIN): %v", err)
	}
	_ = ipCmd("netns", "del", name)
}

// New creates a namespace with IPv6 off (no neighbour discovery noise)
// and loopback up; the test's cleanup removes it, also on failure.
//
// A test that fails having lost frames says whether the kernel dropped
// frames meanwhile (KernelDrops): a backlog that overflows on a machine
// flooded by others drops frames in every namespace, which a test that
// counts them cannot tell from a bug.
func New(t testing.TB) *NS {
	t.Helper()
	drops := KernelDrops()
	t.Cleanup(func() {
		if d := KernelDrops() - drops; t.Failed() && d > 0 {
			t.Logf("the kernel dropped %d frames meanwhile (its input backlog was full: /proc/net/softnet_stat): frames may have been lost on the way", d)
		}
	})
	name := Uniq("bx")
	if err := ipCmd("netns", "add", name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ipCmd("netns", "del", name) })
	fd, err := unix.Open("/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ns := &NS{Name: name, fd: fd}
	t.Cleanup(func() { unix.Close(fd) })
	ns.Sysctl(t, "net/ipv6/conf/all/disable_ipv6", "1")
	ns.Sysctl(t, "net/ipv6/conf/default/disable_ipv6", "1")
	ns.IP(t, "link", "set", "lo", "up")
	return ns
}

// KernelDrops is how many frames the kernel has dropped because a CPU's
// input backlog (net.core.netdev_max_backlog) was full: the second column
// of /proc/net/softnet_stat, summed over CPUs; 0 if it cannot be read.
func KernelDrops() uint64 {
	b, err := os.ReadFile("/proc/net/softnet_stat")
	if err != nil {
		return 0
	}
	var n uint64
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			v, _ := strconv.ParseUint(f[1], 16, 64)
			n += v
		}
	}
	return n
}

// IP runs the ip command in ns ("ip -n NAME args...").
func (ns *NS) IP(t testing.TB, args ...string) {
	t.Helper()
	if err := ipCmd(append([]string{"-n", ns.Name}, args...)...); err != nil {
		t.Fatal(err)
	}
}

// Sysctl writes a /proc/sys key ("net/ipv6/conf/all/disable_ipv6") in ns.
func (ns *NS) Sysctl(t testing.TB, key, value string) {
	t.Helper()
	ns.Do(t, func() error {
		return os.WriteFile("/proc/sys/"+key, []byte(value), 0o644)
	})
}

// Do runs fn on an OS thread inside the namespace. Sockets fn creates stay
// in the namespace; the thread is discarded afterwards.
func (ns *NS) Do(t testing.TB, fn func() error) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			errc <- err
			return
		}
		if err := unix.Setns(ns.fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns.Name, err)
			return
		}
		errc <- fn()
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// TCPSink listens on addr (host:port) inside the namespace and accepts one
// connection; the channel receives how many bytes came before the peer
// closed or idle went by without data (0 if none connected). The listener
// is closed when the test ends.
func (ns *NS) TCPSink(t testing.TB, addr string, idle time.Duration) <-chan int64 {
	t.Helper()
	var ln net.Listener
	ns.Do(t, func() (err error) {
		ln, err = net.Listen("tcp4", addr)
		return err
	})
	t.Cleanup(func() { ln.Close() })
	received := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			received <- 0
			return
		}
		c.SetReadDeadline(time.Now().Add(idle))
		n, _ := io.Copy(io.Discard, c)
		c.Close()
		received <- n
	}()
	return received
}

// Veth creates a veth pair with one end in each namespace, both up, with
// TCP segmentation offload off on the far end so that frames stay within
// the MTU (AF_PACKET sees what the driver receives).
func Veth(t testing.TB, a *NS, aName string, b *NS, bName string) {
	t.Helper()
	if err := ipCmd("link", "add", aName, "netns", a.Name, "type", "veth", "peer", "name", bName, "netns", b.Name); err != nil {
		t.Fatal(err)
	}
	a.IP(t, "link", "set", aName, "up")
	b.IP(t, "link", "set", bName, "up")
	for _, e := range []struct {
		ns   *NS
		name string
	}{{a, aName}, {b, bName}} {
		e.ns.Do(t, func() error { return OffloadsOff(e.name) })
	}
}

// OffloadsOff turns off TSO, GSO and GRO with the ethtool ioctl.
func OffloadsOff(dev string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	for _, cmd := range []uint32{ethtool.STSO, ethtool.SGSO, ethtool.SGRO} {
		if err := ethtool.Set(fd, dev, cmd, 0); err != nil {
			return err
		}
	}
	return nil
}

// MAC returns the hardware address of dev in ns.
func (ns *NS) MAC(t testing.TB, dev string) net.HardwareAddr {
	t.Helper()
	var mac net.HardwareAddr
	ns.Do(t, func() error {
		ni, err := net.InterfaceByName(dev)
		if err == nil {
			mac = ni.HardwareAddr
		}
		return err
	})
	return mac
}

// Ifindex returns the index of dev in ns.
func (ns *NS) Ifindex(t testing.TB, dev string) int {
	t.Helper()
	var index int
	ns.Do(t, func() error {
		ni, err := net.InterfaceByName(dev)
		if err == nil {
			index = ni.Index
		}
		return err
	})
	return index
}

// PacketSocket opens an AF_PACKET socket in ns bound to dev, closed when the
// test ends. With capture it receives every frame (ETH_P_ALL) and reads
// time out after 300 ms; without, it only sends.
func (ns *NS) PacketSocket(t testing.TB, dev string, capture bool) int {
	t.Helper()
	fd := -1
	ns.Do(t, func() error {
		ni, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		proto := 0
		if capture {
			proto = 0x0300 // htons(ETH_P_ALL)
		}
		if fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto); err != nil {
			return err
		}
		if capture {
			tv := unix.Timeval{Usec: 300000}
			if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
				return err
			}
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: uint16(proto), Ifindex: ni.Index})
	})
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// GRO reads generic receive offload on dev in ns (1: on), first setting it
// when set >= 0, with the ethtool ioctl.
func (ns *NS) GRO(t testing.TB, dev string, set int) uint32 {
	t.Helper()
	var v uint32
	ns.Do(t, func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if set >= 0 {
			if err := ethtool.Set(fd, dev, ethtool.SGRO, uint32(set)); err != nil {
				return err
			}
		}
		v, err = ethtool.Get(fd, dev, ethtool.GGRO)
		return err
	})
	return v
}
