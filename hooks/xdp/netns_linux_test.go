package xdp_test

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// netns is a network namespace a test created; Close removes it (and the
// veth ends inside it).
type netns struct {
	name string
	fd   int
}

var nsCounter atomic.Uint32

// uniq returns a short name unique to this process and call, for
// namespaces and interfaces (at most 15 bytes).
func uniq(prefix string) string {
	return fmt.Sprintf("%s%d%d", prefix, os.Getpid()%100000, nsCounter.Add(1))
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// requireNetns skips the test unless namespaces and veth pairs can be made.
func requireNetns(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("network namespace tests are not short")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("skipping: the ip command (iproute2) is missing")
	}
	name := uniq("bxp")
	if err := ipCmd("netns", "add", name); err != nil {
		t.Skipf("skipping: cannot create network namespaces (needs CAP_SYS_ADMIN): %v", err)
	}
	_ = ipCmd("netns", "del", name)
}

// newNetns creates a namespace with IPv6 off (no neighbour discovery noise)
// and loopback up; the test's cleanup removes it, also on failure.
func newNetns(t *testing.T) *netns {
	t.Helper()
	name := uniq("bx")
	if err := ipCmd("netns", "add", name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ipCmd("netns", "del", name) })
	fd, err := unix.Open("/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ns := &netns{name: name, fd: fd}
	t.Cleanup(func() { unix.Close(fd) })
	ns.sysctl(t, "net/ipv6/conf/all/disable_ipv6", "1")
	ns.sysctl(t, "net/ipv6/conf/default/disable_ipv6", "1")
	ns.ip(t, "link", "set", "lo", "up")
	return ns
}

func (ns *netns) ip(t *testing.T, args ...string) {
	t.Helper()
	if err := ipCmd(append([]string{"-n", ns.name}, args...)...); err != nil {
		t.Fatal(err)
	}
}

func (ns *netns) sysctl(t *testing.T, key, value string) {
	t.Helper()
	ns.do(t, func() error {
		return os.WriteFile("/proc/sys/"+key, []byte(value), 0o644)
	})
}

// do runs fn on an OS thread inside the namespace. Sockets fn creates stay
// in the namespace; the thread is discarded afterwards.
func (ns *netns) do(t *testing.T, fn func() error) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			errc <- err
			return
		}
		if err := unix.Setns(ns.fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns.name, err)
			return
		}
		errc <- fn()
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// veth creates a veth pair with one end in each namespace, both up, with
// TCP segmentation offload off on the far end so that frames stay within
// the MTU (AF_PACKET sees what the driver receives).
func veth(t *testing.T, a *netns, aName string, b *netns, bName string) {
	t.Helper()
	if err := ipCmd("link", "add", aName, "netns", a.name, "type", "veth", "peer", "name", bName, "netns", b.name); err != nil {
		t.Fatal(err)
	}
	a.ip(t, "link", "set", aName, "up")
	b.ip(t, "link", "set", bName, "up")
	for _, e := range []struct {
		ns   *netns
		name string
	}{{a, aName}, {b, bName}} {
		e.ns.do(t, func() error { return offloadsOff(e.name) })
	}
}

// offloadsOff turns off TSO, GSO and GRO with the ethtool ioctl.
func offloadsOff(dev string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	const (
		siocEthtool = 0x8946
		ethtoolSTSO = 0x1f
		ethtoolSGSO = 0x24
		ethtoolSGRO = 0x2c
	)
	for _, cmd := range []uint32{ethtoolSTSO, ethtoolSGSO, ethtoolSGRO} {
		val := [2]uint32{cmd, 0}
		var ifr [40]byte
		copy(ifr[:15], dev)
		*(*uintptr)(unsafe.Pointer(&ifr[16])) = uintptr(unsafe.Pointer(&val))
		if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), siocEthtool, uintptr(unsafe.Pointer(&ifr))); errno != 0 {
			return fmt.Errorf("ethtool %s cmd %#x: %w", dev, cmd, errno)
		}
		runtime.KeepAlive(&val)
	}
	return nil
}
