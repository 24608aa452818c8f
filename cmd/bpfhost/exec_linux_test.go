package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The end-to-end tests of "bpfhost exec" run the built binary on clients
// that are this test binary (see execClient), against servers of the test
// on loopback ports 9 (denied or redirected) and 10 (where redirects go).

const sockObj = "../../hooks/sockaddr/testdata/sockaddr.o"

const clientEnv = "BPFHOST_EXEC_TEST_CLIENT"

func init() {
	testEntryPoints = append(testEntryPoints, func() {
		if mode, ok := os.LookupEnv(clientEnv); ok {
			os.Exit(execClient(mode, os.Args[1:]))
		}
	})
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// bpfhostBinary builds the command once per test run.
func bpfhostBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bpfhost-exec-test")
		if err != nil {
			buildErr = err
			return
		}
		afterTests = append(afterTests, func() { os.RemoveAll(dir) })
		builtBin = filepath.Join(dir, "bpfhost")
		if out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build: %v", buildErr)
	}
	return builtBin
}

// server is a TCP and UDP server on one loopback port that answers TCP
// connections with its name and records datagrams.
type server struct {
	name     string
	accepted atomic.Int64
	mu       sync.Mutex
	grams    []string
}

func startServer(t *testing.T, port int, name string) *server {
	t.Helper()
	s := &server{name: name}
	ln, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Skipf("cannot listen on port %d: %v", port, err)
	}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		ln.Close()
		t.Skipf("cannot listen on udp port %d: %v", port, err)
	}
	t.Cleanup(func() { ln.Close(); pc.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			fmt.Fprintln(c, name)
			c.Close()
		}
	}()
	go func() {
		b := make([]byte, 2048)
		for {
			n, _, err := pc.ReadFrom(b)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.grams = append(s.grams, string(b[:n]))
			s.mu.Unlock()
		}
	}()
	return s
}

// tagged counts the datagrams that start with tag.
func (s *server) tagged(tag string) int {
	n := 0
	for _, g := range s.datagrams() {
		if strings.HasPrefix(g, tag) {
			n++
		}
	}
	return n
}

func (s *server) datagrams() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.grams...)
}

// servers starts the servers on ports 9 and 10.
func servers(t *testing.T) (nine, ten *server) {
	return startServer(t, 9, "nine"), startServer(t, 10, "ten")
}

// bpfhostExec runs bpfhost exec with the attachments and the command and
// returns its output, exit status and report.
func bpfhostExec(t *testing.T, attach []string, command ...string) (string, int, execReport) {
	t.Helper()
	return bpfhostExecWith(t, bpfhostBinary(t), attach, command...)
}

// bpfhostExecWith is bpfhostExec with the bpfhost binary bin.
func bpfhostExecWith(t *testing.T, bin string, attach []string, command ...string) (string, int, execReport) {
	t.Helper()
	return bpfhostExecEnv(t, bin, clientEnv+"=1", attach, command...)
}

// bpfhostExecWithEnv is bpfhostExec with env (NAME=VALUE) in the command's
// environment instead of the one that selects the test client.
func bpfhostExecWithEnv(t *testing.T, attach []string, env string, command ...string) (string, int, execReport) {
	t.Helper()
	return bpfhostExecEnv(t, bpfhostBinary(t), env, attach, command...)
}

// bpfhostExecEnv is bpfhostExecWith with env added to the environment.
func bpfhostExecEnv(t *testing.T, bin, env string, attach []string, command ...string) (string, int, execReport) {
	t.Helper()
	report := filepath.Join(t.TempDir(), "report.json")
	args := []string{"exec", "--report", report}
	for _, a := range attach {
		args = append(args, "--attach", a)
	}
	args = append(append(args, "--"), command...)
	cmd := exec.Command(bin, args...)
	cmd.Env = os.Environ()
	if env != "" {
		cmd.Env = append(cmd.Env, env)
	}
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("bpfhost exec: %v", err)
	}
	var rep execReport
	if b, err := os.ReadFile(report); err == nil {
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatalf("report: %v\n%s", err, b)
		}
	}
	return string(out), code, rep
}

// client returns the command line that runs this binary as a client.
func client(args ...string) []string {
	exe, _ := os.Executable()
	return append([]string{exe}, args...)
}

func counts(t *testing.T, rep execReport) [4]uint64 {
	t.Helper()
	var c [4]uint64
	for _, e := range rep.Maps["counts"] {
		k, _ := strconv.ParseUint(e.Key[:2], 16, 8)
		var v uint64
		for i := len(e.Value) - 2; i >= 0; i -= 2 {
			b, _ := strconv.ParseUint(e.Value[i:i+2], 16, 8)
			v = v<<8 | b
		}
		if k < 4 {
			c[k] = v
		}
	}
	return c
}

func TestExecDenyPort(t *testing.T) {
	nine, ten := servers(t)
	out, code, rep := bpfhostExec(t, []string{"cgroup/connect4=" + sockObj + ":deny_port"},
		client("connect", "127.0.0.1:9", "connect", "127.0.0.1:10")...)
	if code != 0 || out != "EPERM\nten\n" {
		t.Fatalf("exit %d, output %q; want EPERM then ten", code, out)
	}
	if nine.accepted.Load() != 0 || ten.accepted.Load() != 1 {
		t.Errorf("accepted %d on 9, %d on 10", nine.accepted.Load(), ten.accepted.Load())
	}
	if len(rep.Programs) != 1 || rep.Programs[0].Runs != 2 || rep.Programs[0].Denied != 1 || rep.Programs[0].Rewritten != 0 {
		t.Errorf("report programs %+v", rep.Programs)
	}
	if c := counts(t, rep); c[0] != 2 || c[1] != 1 {
		t.Errorf("counts %v", c)
	}
}

// A command's exit status is bpfhost's.
func TestExecExitStatus(t *testing.T) {
	_, code, rep := bpfhostExec(t, []string{"cgroup/connect4=" + sockObj + ":deny_port"}, "sh", "-c", "exit 7")
	if code != 7 || rep.ExitCode != 7 {
		t.Errorf("exit %d, report %d; want 7", code, rep.ExitCode)
	}
}

func TestExecRedirect(t *testing.T) {
	nine, ten := servers(t)
	out, code, rep := bpfhostExec(t, []string{"cgroup/connect4=" + sockObj + ":redirect"},
		client("connect", "127.0.0.1:9")...)
	if code != 0 || out != "ten\n" {
		t.Fatalf("exit %d, output %q; want the answer of port 10", code, out)
	}
	if nine.accepted.Load() != 0 || ten.accepted.Load() != 1 {
		t.Errorf("accepted %d on 9, %d on 10", nine.accepted.Load(), ten.accepted.Load())
	}
	if rep.Programs[0].Rewritten != 1 || counts(t, rep)[2] != 1 {
		t.Errorf("report %+v", rep)
	}
}

func TestExecUDPSendmsg(t *testing.T) {
	nine, ten := servers(t)
	out, code, rep := bpfhostExec(t, []string{"cgroup/sendmsg4=" + sockObj + ":redirect_udp"},
		client("sendto", "127.0.0.1:9", "sendmsg", "127.0.0.1:9", "sendmsg6", "[::ffff:127.0.0.1]:9")...)
	if code != 0 || out != "sent\nsent\nsent\n" {
		t.Fatalf("exit %d, output %q", code, out)
	}
	deadline := time.Now().Add(settle)
	for len(ten.datagrams()) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := ten.datagrams(); len(g) != 3 || len(nine.datagrams()) != 0 {
		t.Errorf("port 10 got %q, port 9 %q", g, nine.datagrams())
	}
	if c := counts(t, rep); c[3] != 3 {
		t.Errorf("counts %v, report %+v", c, rep.Programs)
	}
}

func TestExecDenyLowBinds(t *testing.T) {
	out, code, _ := bpfhostExec(t, []string{"cgroup/bind4=" + sockObj + ":low_binds", "cgroup/bind6=" + sockObj + ":low_binds6"},
		client("bind", "127.0.0.1:80", "bind", "127.0.0.1:0", "bind", "127.0.0.1:28781", "bind", "[::1]:443")...)
	if code != 0 || out != "EPERM\nbound\nbound\nEPERM\n" {
		t.Fatalf("exit %d, output %q", code, out)
	}
}

// A grandchild started through a shell is supervised too.
func TestExecGrandchild(t *testing.T) {
	nine, _ := servers(t)
	cmd := strings.Join(client("connect", "127.0.0.1:9"), " ")
	out, code, _ := bpfhostExec(t, []string{"cgroup/connect4=" + sockObj + ":deny_port"}, "sh", "-c", cmd+"; "+cmd+"; true")
	if code != 0 || out != "EPERM\nEPERM\n" || nine.accepted.Load() != 0 {
		t.Fatalf("exit %d, output %q, accepted %d", code, out, nine.accepted.Load())
	}
}

// Threads that swap the address while another connects never reach the
// denied port: the supervisor connects with the address it checked.
func TestExecSwapRace(t *testing.T) {
	nine, ten := servers(t)
	out, code, rep := bpfhostExec(t, []string{"cgroup/connect4=" + sockObj + ":deny_port"}, client("swap", "300")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	if nine.accepted.Load() != 0 {
		t.Fatalf("%d connections reached the denied port; client: %s", nine.accepted.Load(), out)
	}
	if ten.accepted.Load() == 0 || rep.Programs[0].Denied == 0 {
		t.Errorf("the race did not exercise both ports: %s, report %+v", out, rep.Programs)
	}
}

func TestExecNonBlockingAndMapped(t *testing.T) {
	nine, ten := servers(t)
	out, code, _ := bpfhostExec(t, []string{"cgroup/connect4=" + sockObj + ":deny_port", "cgroup/connect6=" + sockObj + ":deny_port6"},
		client("connect-nb", "127.0.0.1:10", "connect-nb", "127.0.0.1:9", "connect6", "[::ffff:127.0.0.1]:9", "connect6", "[::ffff:127.0.0.1]:10")...)
	if code != 0 || out != "EINPROGRESS\nten\nEPERM\nEPERM\nten\n" {
		t.Fatalf("exit %d, output %q", code, out)
	}
	if nine.accepted.Load() != 0 || ten.accepted.Load() != 2 {
		t.Errorf("accepted %d on 9, %d on 10", nine.accepted.Load(), ten.accepted.Load())
	}
}

// Unix-domain sockets pass through untouched.
func TestExecUnixPassThrough(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintln(c, "unix")
			c.Close()
		}
	}()
	out, code, rep := bpfhostExec(t, []string{"cgroup/connect4=" + sockObj + ":deny_port"}, client("unix", path)...)
	if code != 0 || out != "unix\n" || rep.Programs[0].Runs != 0 {
		t.Fatalf("exit %d, output %q, report %+v", code, out, rep.Programs)
	}
}

// If the supervisor dies, supervised calls fail instead of running
// unchecked (seccomp answers ENOSYS for a listener that is gone).
//
// The client says when it runs and connects when told, after the
// supervisor is dead: a fixed 300 ms for the supervisor to start it and
// a second for the test to kill the supervisor raced on a busy machine.
func TestExecFailClosed(t *testing.T) {
	nine, ten := servers(t)
	got := orphanedClient(t, []string{"cgroup/connect4=" + sockObj + ":deny_port"}, 2, "late", "127.0.0.1:10", "127.0.0.1:9")
	if got != "ENOSYS\nENOSYS\n" {
		t.Errorf("calls after the supervisor died: %q, want ENOSYS twice", got)
	}
	if nine.accepted.Load()+ten.accepted.Load() != 0 {
		t.Errorf("connections went through: %d, %d", nine.accepted.Load(), ten.accepted.Load())
	}
}

// orphanedClient runs the test client (mode, then its arguments after the
// result file) under bpfhost exec with attach, kills the supervisor once
// the client is ready, lets the client make its calls and returns what it
// wrote once that is lines lines (or the settle time has passed).
func orphanedClient(t *testing.T, attach []string, lines int, mode string, args ...string) string {
	t.Helper()
	result := filepath.Join(t.TempDir(), "result")
	cmdArgs := []string{"exec"}
	for _, a := range attach {
		cmdArgs = append(cmdArgs, "--attach", a)
	}
	cmd := exec.Command(bpfhostBinary(t), append(append(cmdArgs, "--"), client(append([]string{mode, result}, args...)...)...)...)
	cmd.Env = append(os.Environ(), clientEnv+"=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if !waitFile(result + ".ready") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("the client did not start under the supervisor")
	}
	cmd.Process.Kill()
	cmd.Wait()
	if err := os.WriteFile(result+".go", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var got []byte
	for deadline := time.Now().Add(settle); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got, _ = os.ReadFile(result); strings.Count(string(got), "\n") == lines {
			break
		}
	}
	return string(got)
}

// waitFile waits up to settle for path to exist and reports whether it
// does.
func waitFile(path string) bool {
	for deadline := time.Now().Add(settle); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// datagramTag starts every datagram the client sends: the value of
// clientEnv, one byte ("1"; "k" for the kernel's runs in
// TestExecAgreesWithKernel, which tells the runs' datagrams apart).
var datagramTag string

// execClient is the client the tests run under bpfhost exec: a list of
// operations, each printing its outcome (an errno name, or what happened).
// mode (clientEnv's value) is the datagrams' tag.
func execClient(mode string, args []string) int {
	datagramTag = mode
	for len(args) > 0 {
		op := args[0]
		if f, ok := edgeOps[op]; ok {
			var out string
			out, args = f(args[1:])
			fmt.Println(out)
			continue
		}
		switch op {
		case "swap":
			n, _ := strconv.Atoi(args[1])
			fmt.Println(swapRace(n))
			args = args[2:]
			continue
		case "bench":
			n, _ := strconv.Atoi(args[1])
			fmt.Println(benchCalls(n, args[2]))
			return 0
		case "sleep":
			n, _ := strconv.Atoi(args[1])
			time.Sleep(time.Duration(n) * time.Second)
			args = args[2:]
			continue
		case "io_uring":
			var params [120]byte
			fd, _, e := syscall.Syscall(unix.SYS_IO_URING_SETUP, 4, uintptr(unsafe.Pointer(&params[0])), 0)
			if e != 0 {
				fmt.Println(errName(e))
			} else {
				unix.Close(int(fd))
				fmt.Println("io_uring")
			}
			args = args[1:]
			continue
		case "whoami":
			comm, _ := os.ReadFile("/proc/self/comm")
			fmt.Printf("%s %d %d\n", strings.TrimSpace(string(comm)), os.Getpid(), os.Getuid())
			args = args[1:]
			continue
		case "late":
			// Connect once the test has killed the supervisor.
			os.WriteFile(args[1]+".ready", nil, 0o644)
			if !waitFile(args[1] + ".go") {
				return 1
			}
			var b strings.Builder
			for _, a := range args[2:] {
				fmt.Fprintln(&b, connectTo(a, false))
			}
			os.WriteFile(args[1], []byte(b.String()), 0o644)
			return 0
		}
		a := args[1]
		args = args[2:]
		switch op {
		case "connect", "connect6":
			fmt.Println(connectTo(a, false))
		case "socket":
			fmt.Println(socketInfo(a))
		case "rebind":
			fmt.Println(rebind(a, args[0]))
			args = args[1:]
		case "names":
			fmt.Println(names(a))
		case "connect-nb":
			fmt.Println(connectTo(a, true))
		case "fastopen":
			fmt.Println(fastOpen(a))
		case "sendmmsg":
			fmt.Println(sendMany(a))
		case "sendto", "sendmsg", "sendmsg6":
			fmt.Println(sendTo(op, a))
		case "bind":
			fmt.Println(bindTo(a))
		case "unix":
			c, err := net.Dial("unix", a)
			if err != nil {
				fmt.Println(err)
				continue
			}
			line, _ := bufio.NewReader(c).ReadString('\n')
			fmt.Print(line)
			c.Close()
		default:
			fmt.Println("unknown operation", op)
			return 2
		}
	}
	return 0
}

func errName(err error) string {
	if e, ok := err.(unix.Errno); ok {
		return unix.ErrnoName(e)
	}
	return err.Error()
}

// sockaddrOf parses "1.2.3.4:5" or "[::1]:5".
func sockaddrOf(s string) (unix.Sockaddr, int) {
	ap := netipAddrPort(s)
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}, unix.AF_INET
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}, unix.AF_INET6
}

func connectTo(a string, nonblock bool) string {
	sa, fam := sockaddrOf(a)
	fd, err := unix.Socket(fam, unix.SOCK_STREAM, 0)
	if err != nil {
		return errName(err)
	}
	defer unix.Close(fd)
	if nonblock {
		unix.SetNonblock(fd, true)
	}
	prefix := ""
	if err := unix.Connect(fd, sa); err != nil {
		if err != unix.EINPROGRESS {
			return errName(err)
		}
		prefix = "EINPROGRESS\n"
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		unix.Poll(pfd, 5000)
		if e, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR); e != 0 {
			return prefix + errName(unix.Errno(e))
		}
		unix.SetNonblock(fd, false)
	}
	f := os.NewFile(uintptr(fd), "conn")
	line, _ := bufio.NewReader(f).ReadString('\n')
	return prefix + strings.TrimSuffix(line, "\n")
}

func sendTo(op, a string) string {
	sa, fam := sockaddrOf(a)
	if op == "sendmsg6" {
		fam = unix.AF_INET6
	}
	fd, err := unix.Socket(fam, unix.SOCK_DGRAM, 0)
	if err != nil {
		return errName(err)
	}
	defer unix.Close(fd)
	if op == "sendto" {
		err = unix.Sendto(fd, []byte(datagramTag+op), 0, sa)
	} else {
		err = unix.Sendmsg(fd, []byte(datagramTag+op), nil, sa, 0)
	}
	if err != nil {
		return errName(err)
	}
	return "sent"
}

func bindTo(a string) string {
	sa, fam := sockaddrOf(a)
	fd, err := unix.Socket(fam, unix.SOCK_STREAM, 0)
	if err != nil {
		return errName(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, sa); err != nil {
		return errName(err)
	}
	return "bound"
}

// swapRace connects n times from one thread while another flips the port
// of the very sockaddr being passed between 10 (allowed) and 9 (denied).
func swapRace(n int) string {
	sa := new(unix.RawSockaddrInet4)
	sa.Family = unix.AF_INET
	sa.Addr = [4]byte{127, 0, 0, 1}
	port := (*uint32)(unsafe.Pointer(&sa.Port)) // port and the first half of addr
	allowed := uint32(10<<8) | uint32(127)<<16
	denied := uint32(9<<8) | uint32(127)<<16
	stop := make(chan struct{})
	var spin atomic.Int64
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			// Equal time on each port, with an uneven rhythm.
			for i, v := range [2]uint32{allowed, denied} {
				atomic.StoreUint32(port, v)
				for j := 0; j < 500+i*37; j++ {
					spin.Add(1)
				}
			}
		}
	}()
	ok, eperm, other := 0, 0, 0
	for i := 0; i < n; i++ {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		if err != nil {
			other++
			continue
		}
		_, _, e := syscall.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(sa)), unix.SizeofSockaddrInet4)
		switch e {
		case 0:
			ok++
		case unix.EPERM:
			eperm++
		default:
			other++
			if other == 1 {
				fmt.Println("first other error:", errName(e))
			}
		}
		unix.Close(fd)
	}
	close(stop)
	return fmt.Sprintf("ok %d eperm %d other %d", ok, eperm, other)
}

func netipAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// benchCalls times n connect() calls to addr, n bind() calls to port 0 of
// its address, n connect() calls to a listener of its own, each on a fresh
// socket, and n recvfrom() calls on a UDP socket with a datagram waiting,
// and prints the medians in ns. The server at addr is another process,
// woken by each connection; nothing waits on the client's own listener
// (the client accepts each connection after timing its connect), so the
// third measures connect() without a server's wake-up that can win the CPU
// before the connecting task resumes. The client sends each datagram to
// itself before timing the receive, which asks for the source address.
func benchCalls(n int, a string) string {
	sa, fam := sockaddrOf(a)
	var any unix.Sockaddr = &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	if fam == unix.AF_INET6 {
		any = &unix.SockaddrInet6{Addr: [16]byte{15: 1}}
	}
	// median times n runs of op; op's setup (nil unless it fails) and
	// cleanup run untimed.
	median := func(op func(timed func(func() error) error) error) int64 {
		d := make([]int64, 0, n)
		for i := 0; i < n; i++ {
			err := op(func(call func() error) error {
				start := time.Now()
				err := call()
				d = append(d, int64(time.Since(start)))
				return err
			})
			if err != nil {
				return -1
			}
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	// fresh times call on a fresh TCP socket; after runs untimed.
	fresh := func(call func(fd int) error, after func()) int64 {
		return median(func(timed func(func() error) error) error {
			fd, err := unix.Socket(fam, unix.SOCK_STREAM, 0)
			if err != nil {
				return err
			}
			defer unix.Close(fd)
			err = timed(func() error { return call(fd) })
			if after != nil {
				after()
			}
			return err
		})
	}
	c := fresh(func(fd int) error { return unix.Connect(fd, sa) }, nil)
	b := fresh(func(fd int) error { return unix.Bind(fd, any) }, nil)
	q, r := int64(-1), int64(-1)
	if ln, err := unix.Socket(fam, unix.SOCK_STREAM, 0); err == nil {
		defer unix.Close(ln)
		if unix.Bind(ln, any) == nil && unix.Listen(ln, 16) == nil {
			if own, err := unix.Getsockname(ln); err == nil {
				q = fresh(func(fd int) error { return unix.Connect(fd, own) }, func() {
					if cfd, _, err := unix.Accept(ln); err == nil {
						unix.Close(cfd)
					}
				})
			}
		}
	}
	if u, err := unix.Socket(fam, unix.SOCK_DGRAM, 0); err == nil {
		defer unix.Close(u)
		if unix.Bind(u, any) == nil {
			if own, err := unix.Getsockname(u); err == nil {
				buf := make([]byte, 64)
				r = median(func(timed func(func() error) error) error {
					if err := unix.Sendto(u, []byte("x"), 0, own); err != nil {
						return err
					}
					return timed(func() error {
						_, _, err := unix.Recvfrom(u, buf, 0)
						return err
					})
				})
			}
		}
	}
	return fmt.Sprintf("connect %d bind %d quiet-connect %d recvfrom %d", c, b, q, r)
}

// names connects to a and prints the answer, the peer address getpeername
// reports and the local address getsockname reports (ports above 10 are
// "ephemeral").
func names(a string) string {
	sa, fam := sockaddrOf(a)
	fd, err := unix.Socket(fam, unix.SOCK_STREAM, 0)
	if err != nil {
		return errName(err)
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, sa); err != nil {
		return errName(err)
	}
	port := func(get func(int) (unix.Sockaddr, error)) string {
		sa, err := get(fd)
		if err != nil {
			return errName(err)
		}
		in := sa.(*unix.SockaddrInet4)
		p := strconv.Itoa(in.Port)
		if in.Port > 10 {
			p = "ephemeral"
		}
		return netip.AddrFrom4(in.Addr).String() + ":" + p
	}
	peer, local := port(unix.Getpeername), port(unix.Getsockname)
	b := make([]byte, 16)
	k, _ := unix.Read(fd, b)
	return fmt.Sprintf("%s peer %s local %s", strings.TrimSpace(string(b[:max(k, 0)])), peer, local)
}

// socketInfo creates a socket of kind ("tcp4", "udp6", "mptcp4", ...) and prints its
// mark and priority, or the errno.
func socketInfo(kind string) string {
	fam, typ := unix.AF_INET, unix.SOCK_STREAM
	if strings.HasSuffix(kind, "6") {
		fam = unix.AF_INET6
	}
	proto := 0
	switch {
	case strings.HasPrefix(kind, "udp"):
		typ = unix.SOCK_DGRAM
	case strings.HasPrefix(kind, "mptcp"):
		proto = unix.IPPROTO_MPTCP
	}
	fd, err := unix.Socket(fam, typ|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return errName(err)
	}
	defer unix.Close(fd)
	mark, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_MARK)
	prio, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PRIORITY)
	fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return fmt.Sprintf("mark %d priority %d cloexec %v", mark, prio, fl&unix.FD_CLOEXEC != 0)
}

// rebind binds a TCP socket to a, and if that fails, the same socket to b;
// then it listens.
func rebind(a, b string) string {
	sa, fam := sockaddrOf(a)
	fd, err := unix.Socket(fam, unix.SOCK_STREAM, 0)
	if err != nil {
		return errName(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, sa); err != nil {
		sb, _ := sockaddrOf(b)
		first := errName(err)
		if err := unix.Bind(fd, sb); err != nil {
			return first + " then " + errName(err)
		}
		return first + " then bound, " + listened(fd)
	}
	return "bound, " + listened(fd)
}

func listened(fd int) string {
	if err := unix.Listen(fd, 1); err != nil {
		return "listen " + errName(err)
	}
	return "listening"
}

// The task and socket helpers answer for the supervised task, not for
// bpfhost: its comm, process ID and user, and its socket's cookies.
func TestExecTaskHelpers(t *testing.T) {
	_, _ = servers(t)
	out, code, rep := bpfhostExec(t, []string{"cgroup/connect4=" + sockObj + ":who"}, client("whoami", "connect", "127.0.0.1:10")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	who, _, _ := strings.Cut(out, "\n")
	if len(rep.Printk) != 2 || rep.Printk[0] != who || rep.Printk[1] != "cookie 1 netns 1" {
		t.Errorf("printk %q, want %q and both cookies set", rep.Printk, who)
	}
}

// sendMany sends two datagrams to a with one sendmmsg and prints how many
// went and the msg_len of each.
func sendMany(a string) string {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return errName(err)
	}
	defer unix.Close(fd)
	ap := netip.MustParseAddrPort(a)
	sa := unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: ap.Addr().As4()}
	sa.Port = ap.Port()<<8 | ap.Port()>>8
	type mmsghdr struct {
		hdr unix.Msghdr
		n   uint32
		_   [4]byte
	}
	payload := [][]byte{[]byte(datagramTag + "first"), []byte(datagramTag + "second!")}
	var iov [2]unix.Iovec
	var msgs [2]mmsghdr
	for i := range msgs {
		iov[i] = unix.Iovec{Base: &payload[i][0], Len: uint64(len(payload[i]))}
		msgs[i].hdr = unix.Msghdr{Name: (*byte)(unsafe.Pointer(&sa)), Namelen: unix.SizeofSockaddrInet4, Iov: &iov[i], Iovlen: 1}
	}
	r, _, e := syscall.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])), 2, 0, 0, 0)
	if e != 0 {
		return errName(e)
	}
	return fmt.Sprintf("sent %d: %d %d", r, msgs[0].n, msgs[1].n)
}

// --map-init fills the maps before the command runs; SIGTERM to bpfhost
// reaches the command, and bpfhost reports its status.
func TestExecMapInitAndSignals(t *testing.T) {
	nine, _ := servers(t)
	dir := t.TempDir()
	initFile := filepath.Join(dir, "init.json")
	os.WriteFile(initFile, []byte(`{"counts": [{"key": "00000000", "value": "6400000000000000"}]}`), 0o644)
	report := filepath.Join(dir, "report.json")
	cmd := exec.Command(bpfhostBinary(t), append([]string{"exec", "--map-init", initFile, "--report", report,
		"--attach", "cgroup/connect4=" + sockObj + ":deny_port", "--"}, client("connect", "127.0.0.1:9", "sleep", "20")...)...)
	cmd.Env = append(os.Environ(), clientEnv+"=1")
	outFile, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer outFile.Close()
	cmd.Stdout = outFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(settle); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, _ := os.ReadFile(outFile.Name()); strings.Contains(string(b), "EPERM") {
			break
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 128+int(syscall.SIGTERM) {
		t.Fatalf("bpfhost: %v, want exit %d (the command's SIGTERM)", err, 128+int(syscall.SIGTERM))
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep execReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if c := counts(t, rep); c[0] != 101 || c[1] != 1 || rep.ExitCode != 128+int(syscall.SIGTERM) || nine.accepted.Load() != 0 {
		t.Errorf("counts %v (want 101, 1), exit code %d", c, rep.ExitCode)
	}
}

// io_uring's connect and bind bypass seccomp: supervised commands cannot
// set one up (they fall back to plain syscalls).
func TestExecNoIOUring(t *testing.T) {
	out, code, _ := bpfhostExec(t, []string{"cgroup/connect4=" + sockObj + ":deny_port"}, client("io_uring")...)
	if code != 0 || out != "ENOSYS\n" {
		t.Fatalf("exit %d, output %q", code, out)
	}
}

// fastOpen connects to a with TCP Fast Open (sendto with MSG_FASTOPEN) and
// prints the answer.
func fastOpen(a string) string {
	sa, fam := sockaddrOf(a)
	fd, err := unix.Socket(fam, unix.SOCK_STREAM, 0)
	if err != nil {
		return errName(err)
	}
	defer unix.Close(fd)
	if err := unix.Sendto(fd, []byte("hi"), unix.MSG_FASTOPEN, sa); err != nil {
		return errName(err)
	}
	b := make([]byte, 16)
	k, _ := unix.Read(fd, b)
	return strings.TrimSpace(string(b[:max(k, 0)]))
}
