package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"

	"golang.org/x/sys/unix"
)

// The recvmsg4/6 tests: a client sends to 127.0.0.1:9, a sendmsg4 program
// redirects the datagram to port 10 where an echo server answers, and a
// recvmsg program rewrites the reply's source back to port 9.

const recvClientEnv = "BPFHOST_EXEC_TEST_RECV_CLIENT"

func init() {
	testEntryPoints = append(testEntryPoints, func() {
		if mode, ok := os.LookupEnv(recvClientEnv); ok {
			if err := recvClient(mode); err != nil {
				fmt.Println("error:", err)
				os.Exit(1)
			}
			os.Exit(0)
		}
	})
}

// echoServer answers every datagram on 127.0.0.1:10 with its payload.
func echoServer(t *testing.T) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:10")
	if err != nil {
		t.Skipf("cannot listen on udp port 10: %v", err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		b := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(b)
			if err != nil {
				return
			}
			pc.WriteTo(b[:n], from)
		}
	}()
}

// recvClient runs one client mode with blocking sockets and raw system
// calls, printing the source port of every reply.
func recvClient(mode string) error {
	v6 := mode == "v6"
	dom := unix.AF_INET
	var to unix.Sockaddr = &unix.SockaddrInet4{Port: 9, Addr: [4]byte{127, 0, 0, 1}}
	if v6 {
		dom = unix.AF_INET6
		to = &unix.SockaddrInet6{Port: 9, Addr: [16]byte{10: 0xff, 11: 0xff, 12: 127, 15: 1}}
	}
	fd, err := unix.Socket(dom, unix.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	// A receive that is never answered fails the test instead of hanging.
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 30}); err != nil {
		return err
	}
	port := func(sa unix.Sockaddr) string {
		switch a := sa.(type) {
		case *unix.SockaddrInet4:
			return fmt.Sprintf("%v:%d", net.IP(a.Addr[:]), a.Port)
		case *unix.SockaddrInet6:
			return fmt.Sprintf("[%v]:%d", net.IP(a.Addr[:]), a.Port)
		}
		return fmt.Sprintf("%T", sa)
	}
	send := func(s string) error { return unix.Sendto(fd, []byte(s), 0, to) }
	b := make([]byte, 64)

	// recvfrom, with MSG_PEEK first and then MSG_TRUNC into one byte.
	if err := send("hello"); err != nil {
		return err
	}
	n, from, err := unix.Recvfrom(fd, b, unix.MSG_PEEK)
	if err != nil {
		return err
	}
	fmt.Printf("peek %q %s\n", b[:n], port(from))
	n, from, err = unix.Recvfrom(fd, b[:1], unix.MSG_TRUNC)
	if err != nil {
		return err
	}
	fmt.Printf("recvfrom %d %q %s\n", n, b[:1], port(from))

	// recvmsg with two iovecs and a control message (IP_PKTINFO).
	if err := send("world"); err != nil {
		return err
	}
	if v6 {
		err = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1)
	} else {
		err = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
	}
	if err != nil {
		return err
	}
	oob := make([]byte, 128)
	n, oobn, flags, from, err := unix.RecvmsgBuffers(fd, [][]byte{b[:2], b[2:8]}, oob, 0)
	if err != nil {
		return err
	}
	cm, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return err
	}
	fmt.Printf("recvmsg %q %s cmsgs %d flags %#x\n", b[:n], port(from), len(cm), flags)

	// recvmmsg of two datagrams, the second without an address buffer.
	if err := send("one"); err != nil {
		return err
	}
	if err := send("two"); err != nil {
		return err
	}
	type mmsghdr struct {
		hdr unix.Msghdr
		len uint32
		_   [4]byte
	}
	var names [2][128]byte
	bufs := [2][16]byte{}
	var iov [2]unix.Iovec
	var vec [2]mmsghdr
	for i := range vec {
		iov[i] = unix.Iovec{Base: &bufs[i][0], Len: 16}
		vec[i].hdr.Iov, vec[i].hdr.Iovlen = &iov[i], 1
	}
	vec[0].hdr.Name, vec[0].hdr.Namelen = &names[0][0], 128
	r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&vec[0])), 2, 0, 0, 0)
	if e != 0 {
		return e
	}
	fmt.Printf("recvmmsg %d %q %q namelen %d port %d\n", r, bufs[0][:vec[0].len], bufs[1][:vec[1].len],
		vec[0].hdr.Namelen, binary.BigEndian.Uint16(names[0][2:4]))

	// MSG_WAITFORONE with one datagram waiting: one message, no blocking.
	if err := send("three"); err != nil {
		return err
	}
	r, _, e = unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&vec[0])), 2, unix.MSG_WAITFORONE, 0, 0)
	if e != 0 {
		return e
	}
	fmt.Printf("waitforone %d %q port %d\n", r, bufs[0][:vec[0].len], binary.BigEndian.Uint16(names[0][2:4]))
	return nil
}

func TestExecRecvmsg(t *testing.T) {
	echoServer(t)
	run := func(mode string, attach ...string) (string, execReport) {
		t.Helper()
		cmd := client()
		out, code, rep := bpfhostExecWithEnv(t, attach, recvClientEnv+"="+mode, cmd...)
		if code != 0 {
			t.Fatalf("%s %v: exit %d, output %q", mode, attach, code, out)
		}
		return out, rep
	}
	send := "cgroup/sendmsg4=" + sockObj + ":redirect_udp"
	want := func(src string) string {
		return fmt.Sprintf("peek \"hello\" %[1]s\nrecvfrom 5 \"h\" %[1]s\nrecvmsg \"world\" %[1]s cmsgs 1 flags 0x0\n"+
			"recvmmsg 2 \"one\" \"two\" namelen %[2]d port %[3]s\nwaitforone 1 \"three\" port %[3]s\n", src, map[bool]int{false: 16, true: 28}[strings.HasPrefix(src, "[")], src[strings.LastIndex(src, ":")+1:])
	}
	// Without a recvmsg program the application sees the redirect.
	if out, _ := run("v4", send); out != want("127.0.0.1:10") {
		t.Errorf("sendmsg4 only: %q, want %q", out, want("127.0.0.1:10"))
	}
	out, rep := run("v4", send, "cgroup/recvmsg4="+sockObj+":restore_udp")
	if out != want("127.0.0.1:9") {
		t.Errorf("with recvmsg4: %q, want %q", out, want("127.0.0.1:9"))
	}
	for _, p := range rep.Programs {
		// recvmmsg's second datagram has no address buffer: no run.
		if p.Name == "restore_udp" && (p.Runs != 5 || p.Rewritten != 5) {
			t.Errorf("restore_udp: %+v", p)
		}
	}
	out, _ = run("v6", send, "cgroup/recvmsg6="+sockObj+":restore_udp6")
	if w := want("[127.0.0.1]:9"); out != w {
		t.Errorf("v6 with recvmsg6: %q, want %q", out, w)
	}
}

// TestExecRecvmsgSignal checks that a signal interrupts a blocking
// receive the supervisor performs as it interrupts one in Linux, with the
// same script run unsupervised as the oracle: a handler without SA_RESTART
// gets EINTR (Python raises the handler's exception); with SA_RESTART the
// receive restarts (and gets the datagram a second thread sends at 1 s;
// the handler runs late, after it), unless SO_RCVTIMEO is set, which makes
// it EINTR (Python runs the handler early and receives again).
//
// A late handler runs after the datagram, so at 1 s or later however
// slow the machine; an early one at the alarm (0.2 s) plus however long
// the signal takes to interrupt the receive, which has 0.7 s before it
// would count as late (0.6 s was 0.2 s, on a busy machine not always
// enough), and the datagram comes 0.8 s after the alarm.
func TestExecRecvmsgSignal(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	const script = `
import signal, socket, struct, sys, threading, time
t0 = time.monotonic()
restart, timeout = sys.argv[1] == "1", int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
class Alarm(Exception): pass
def h(*a):
    print("handler", "early" if time.monotonic() - t0 < 0.9 else "late", flush=True)
    if not restart:
        raise Alarm()
threading.Timer(1.0, lambda: s2.sendto(b"late", s.getsockname())).start()
signal.signal(signal.SIGALRM, h)
signal.siginterrupt(signal.SIGALRM, not restart)
if timeout:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", timeout, 0))
s.bind(("127.0.0.1", 0))
signal.setitimer(signal.ITIMER_REAL, 0.2)
try:
    d, a = s.recvfrom(100)
    print("received", d)
except Alarm:
    print("interrupted")
except OSError as e:
    print("error", e.errno)
`
	for _, args := range [][]string{{"0", "3"}, {"0", "0"}, {"1", "0"}, {"1", "3"}} {
		direct, err := exec.Command(py, append([]string{"-c", script}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v unsupervised: %v: %s", args, err, direct)
		}
		out, code, _ := bpfhostExecWithEnv(t, []string{"cgroup/recvmsg4=" + sockObj + ":restore_udp"}, "",
			append([]string{py, "-c", script}, args...)...)
		if code != 0 || out != string(direct) {
			t.Errorf("restart %s timeout %s: exit %d, output %q, unsupervised %q", args[0], args[1], code, out, direct)
		}
	}
}

// TestExecRecvmsgAgreesWithKernel runs the recvmsg client under the
// kernel's cgroup programs (the same object) and under bpfhost exec: the
// same replies and source addresses.
func TestExecRecvmsgAgreesWithKernel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("attaching cgroup programs needs root")
	}
	envBin, err := exec.LookPath("env")
	if err != nil {
		t.Skip("no env")
	}
	echoServer(t)
	for _, tc := range []struct {
		mode, recv string
		kind       ebpf.AttachType
	}{
		{"v4", "restore_udp", ebpf.AttachCGroupUDP4Recvmsg},
		{"v6", "restore_udp6", ebpf.AttachCGroupUDP6Recvmsg},
	} {
		// env selects the recv client in the cgroup (kernelCgroup sets the
		// other client's variable).
		args := append([]string{envBin, "-u", clientEnv, recvClientEnv + "=" + tc.mode}, client()...)
		kernel, _ := kernelCgroup(t, map[string]ebpf.AttachType{"redirect_udp": ebpf.AttachCGroupUDP4Sendmsg, tc.recv: tc.kind}, args...)
		recvType := map[bool]string{false: "cgroup/recvmsg4=", true: "cgroup/recvmsg6="}[tc.mode == "v6"]
		out, code, _ := bpfhostExecWithEnv(t, []string{"cgroup/sendmsg4=" + sockObj + ":redirect_udp", recvType + sockObj + ":" + tc.recv},
			recvClientEnv+"="+tc.mode, client()...)
		if code != 0 || out != kernel {
			t.Errorf("%s: bpfhost exit %d output %q, kernel %q", tc.mode, code, out, kernel)
		}
	}
}
