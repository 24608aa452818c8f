package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// ctx->sk and bpf_setsockopt/bpf_getsockopt in sock_addr programs
// (docs/decisions/0038-sock-addr-socket.md), compared with the kernel
// running hooks/sockaddr/testdata/sockctx.o in a cgroup.

const sockctxObj = "../../hooks/sockaddr/testdata/sockctx.o"

func init() {
	edgeOps["sk"] = sockctxOp
	edgeOps["stg"] = storageOp
}

// storageOp is the client's "stg KIND BASE" for skstorage.o: a UDP socket
// (which sock_create gives a value) bound to port 0 (bind4 deletes the
// value), sending twice and connecting (sendmsg4 makes a value, then
// counts); or a TCP socket bound to BASE (bind4 makes a value) that
// connects.
func storageOp(args []string) (string, []string) {
	kind := args[0]
	base, _ := strconv.Atoi(args[1])
	args = args[2:]
	typ := unix.SOCK_DGRAM
	if kind == "tcp" {
		typ = unix.SOCK_STREAM
	}
	fd, err := unix.Socket(unix.AF_INET, typ, 0)
	if err != nil {
		return errName(err), args
	}
	defer unix.Close(fd)
	var out []string
	res := func(err error) { out = append(out, okOr(err)) }
	nine := &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: 9}
	ten := &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: 10}
	if kind == "tcp" {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		res(unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: base}))
		res(unix.Connect(fd, ten))
		return strings.Join(out, " "), args
	}
	res(unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	res(unix.Sendto(fd, []byte(datagramTag+"stg"), 0, nine))
	res(unix.Sendto(fd, []byte(datagramTag+"stg"), 0, ten))
	res(unix.Connect(fd, ten))
	return strings.Join(out, " "), args
}

// sockctxOp is the client's "sk KIND BASE": a socket of KIND set up and
// used so that the sock_addr programs see it in several states, its local
// ports BASE and up (fixed, so that two runs record the same fields up to
// BASE). It prints each call's result and the options the programs may
// have set.
func sockctxOp(args []string) (string, []string) {
	kind := args[0]
	base, _ := strconv.Atoi(args[1])
	args = args[2:]
	var out []string
	res := func(err error) { out = append(out, okOr(err)) }
	family, typ := unix.AF_INET, unix.SOCK_STREAM
	if strings.Contains(kind, "6") {
		family = unix.AF_INET6
	}
	if strings.HasPrefix(kind, "udp") {
		typ = unix.SOCK_DGRAM
	}
	fd, err := unix.Socket(family, typ, 0)
	if err != nil {
		return errName(err), args
	}
	defer unix.Close(fd)
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	loop4 := &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	ten := &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: 10}
	mapped := func(port int) *unix.SockaddrInet6 {
		return &unix.SockaddrInet6{Addr: [16]byte{10: 0xff, 11: 0xff, 12: 127, 15: 1}, Port: port}
	}
	switch kind {
	case "tcp4":
		// Options first (bound_dev_if, mark, priority), a bind the bind4
		// program sees unbound, a connect connect4 sees bound.
		res(unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_MARK, 3))
		res(unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PRIORITY, 2))
		res(unix.BindToDevice(fd, "lo"))
		loop4.Port = base
		res(unix.Bind(fd, loop4))
		res(unix.Connect(fd, ten))
	case "tcp6":
		res(unix.Connect(fd, mapped(10)))
	case "tcp6-bind":
		res(unix.Bind(fd, &unix.SockaddrInet6{Addr: [16]byte{15: 1}, Port: base}))
	case "udp4":
		// connect4 on a fresh socket, then sendmsg4 on the connected and
		// bound one, with an address.
		loop4.Port = base
		res(unix.Bind(fd, loop4))
		res(unix.Connect(fd, ten))
		res(unix.Sendto(fd, []byte(datagramTag+"sk"), 0, ten))
	case "udp6":
		// sendmsg6 on an IPv6 socket bound to ::1, sendmsg4 on a
		// dual-stack socket connected to an IPv4-mapped peer.
		res(unix.Bind(fd, &unix.SockaddrInet6{Addr: [16]byte{15: 1}, Port: base}))
		res(unix.Sendto(fd, []byte(datagramTag+"sk"), 0, &unix.SockaddrInet6{Addr: [16]byte{15: 1}, Port: 9}))
	case "udp6-mapped":
		res(unix.Bind(fd, &unix.SockaddrInet6{Port: base}))
		res(unix.Connect(fd, mapped(10)))
		res(unix.Sendto(fd, []byte(datagramTag+"sk"), 0, mapped(10)))
	}
	mark, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_MARK)
	prio, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PRIORITY)
	tos, _ := unix.GetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_TOS)
	cc := "-"
	if typ == unix.SOCK_STREAM {
		cc, _ = unix.GetsockoptString(fd, unix.IPPROTO_TCP, unix.TCP_CONGESTION)
	}
	out = append(out, fmt.Sprintf("mark=%d priority=%d tos=%#x cc=%s", mark, prio, tos, strings.TrimRight(cc, "\x00")))
	return strings.Join(out, " "), args
}

// okOr names a call's outcome: "ok" or its errno.
func okOr(err error) string {
	if err != nil {
		return errName(err)
	}
	return "ok"
}

// sockctxRecSize is sizeof(struct rec) in sockctx.c; sockctxSrcPort the
// offset of its src_port.
const (
	sockctxRecSize = 184
	sockctxSrcPort = 48
	sockctxEntries = 32
)

// TestExecSockCtxAgreesWithKernel runs clients whose sock_addr programs
// read ctx->sk and call bpf_setsockopt and bpf_getsockopt under bpfhost
// exec and in a kernel cgroup: the client's output (call results and the
// options it reads back) and every recorded struct bpf_sock field and
// helper result must be the same, the local ports taken relative to each
// run's base.
func TestExecSockCtxAgreesWithKernel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("attaching cgroup programs needs root")
	}
	if testing.Short() {
		t.Skip("runs several supervised commands")
	}
	cases := []struct {
		name   string
		attach map[string]ebpf.AttachType
		kinds  []string
	}{
		{"fields", map[string]ebpf.AttachType{"sk_connect4": ebpf.AttachCGroupInet4Connect, "sk_connect6": ebpf.AttachCGroupInet6Connect,
			"sk_bind4": ebpf.AttachCGroupInet4Bind, "sk_bind6": ebpf.AttachCGroupInet6Bind,
			"sk_sendmsg4": ebpf.AttachCGroupUDP4Sendmsg, "sk_sendmsg6": ebpf.AttachCGroupUDP6Sendmsg},
			[]string{"tcp4", "tcp6", "tcp6-bind", "udp4", "udp6", "udp6-mapped"}},
		{"sockopts", map[string]ebpf.AttachType{"opts_connect4": ebpf.AttachCGroupInet4Connect, "opts_connect6": ebpf.AttachCGroupInet6Connect,
			"opts_sendmsg4": ebpf.AttachCGroupUDP4Sendmsg, "opts_bind6": ebpf.AttachCGroupInet6Bind},
			[]string{"tcp4", "tcp6", "tcp6-bind", "udp4", "udp6-mapped"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			servers(t)
			// Each run binds its own ports: two runs never share one,
			// so no TIME_WAIT of the first can fail the second's bind.
			kBase, base := 28900+100*i, 28950+100*i
			clientArgs := func(b int) []string {
				var a []string
				for j, k := range tc.kinds {
					a = append(a, "sk", k, strconv.Itoa(b+j))
				}
				return client(a...)
			}
			kRecs, recs := arrayAgreement(t, sockctxObj, tc.attach, "fields", sockctxEntries, sockctxRecSize, clientArgs, kBase, base)
			for k := range recs {
				relPort(kRecs[k], kBase)
				relPort(recs[k], base)
				if !bytes.Equal(recs[k], kRecs[k]) {
					t.Errorf("fields[%d]:\nbpfhost %x\nkernel  %x", k, recs[k], kRecs[k])
				}
			}
		})
	}
}

// arrayAgreement runs the client that args builds for a port base in a
// kernel cgroup (base kBase) and under bpfhost exec (base) with the
// programs of obj attached: their outputs must be the same. It returns the
// n values of the array map name after each run, the kernel's first.
func arrayAgreement(t *testing.T, obj string, attachTypes map[string]ebpf.AttachType, name string, n, size int,
	args func(base int) []string, kBase, base int) (kernel, bpfhost [][]byte) {
	t.Helper()
	kOut := kernelCgroupObj(t, obj, attachTypes, func(coll *ebpf.Collection) {
		for k := uint32(0); k < uint32(n); k++ {
			v := make([]byte, size)
			if err := coll.Maps[name].Lookup(k, v); err != nil {
				t.Fatal(err)
			}
			kernel = append(kernel, v)
		}
	}, args(kBase)...)
	var attach []string
	for _, p := range sortedNames(attachTypes) {
		attach = append(attach, attachTypeNames[attachTypes[p]]+"="+obj+":"+p)
	}
	out, code, rep := bpfhostExec(t, attach, args(base)...)
	if code != 0 {
		t.Fatalf("bpfhost exec: exit %d: %s", code, out)
	}
	t.Logf("outcomes: %q", out)
	if out != kOut {
		t.Errorf("outcomes differ:\nbpfhost: %q\nkernel:  %q", out, kOut)
	}
	return kernel, reportArray(t, rep, name, n, size)
}

// relPort makes a record's src_port relative to base (0 stays 0).
func relPort(rec []byte, base int) {
	if p := binary.NativeEndian.Uint32(rec[sockctxSrcPort:]); p != 0 {
		binary.NativeEndian.PutUint32(rec[sockctxSrcPort:], p-uint32(base)+1)
	}
}

// reportArray returns the n values of an array map in bpfhost exec's
// report (entries it leaves out are all zero).
func reportArray(t *testing.T, rep execReport, name string, n, size int) [][]byte {
	t.Helper()
	vals := make([][]byte, n)
	for i := range vals {
		vals[i] = make([]byte, size)
	}
	for _, e := range rep.Maps[name] {
		kb, err := hex.DecodeString(strings.ReplaceAll(e.Key, " ", ""))
		if err != nil || len(kb) != 4 {
			t.Fatalf("map %s: key %q", name, e.Key)
		}
		vb, err := hex.DecodeString(strings.ReplaceAll(e.Value, " ", ""))
		if err != nil || len(vb) != size {
			t.Fatalf("map %s: value %q", name, e.Value)
		}
		if k := binary.NativeEndian.Uint32(kb); int(k) < n {
			vals[k] = vb
		}
	}
	return vals
}

// sk storage (bpf_sk_storage_get, bpf_sk_storage_delete) from sock_create,
// bind4, post_bind4, connect4 and sendmsg4 programs agrees with the kernel:
// a value per socket, made by the hook that first asks with
// BPF_SK_STORAGE_GET_F_CREATE, seen by the socket's later calls (also by
// another program type's), deleted, and made again.
func TestExecSkStorageAgreesWithKernel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("attaching cgroup programs needs root")
	}
	if testing.Short() {
		t.Skip("runs supervised commands")
	}
	const obj = "../../hooks/sockaddr/testdata/skstorage.o"
	const entries, size = 32, 24
	attachTypes := map[string]ebpf.AttachType{"stg_create": ebpf.AttachCGroupInetSockCreate, "stg_connect4": ebpf.AttachCGroupInet4Connect,
		"stg_sendmsg4": ebpf.AttachCGroupUDP4Sendmsg, "stg_bind4": ebpf.AttachCGroupInet4Bind, "stg_post_bind4": ebpf.AttachCGroupInet4PostBind}
	servers(t)
	clientArgs := func(base int) []string {
		return client("stg", "udp", "0", "stg", "tcp", strconv.Itoa(base), "stg", "udp", "0", "stg", "tcp", strconv.Itoa(base+1))
	}
	kSeen, seen := arrayAgreement(t, obj, attachTypes, "seen", entries, size, clientArgs, 29100, 29150)
	// last_port holds a TCP socket's bound port, which differs by base.
	rel := func(rec []byte, base uint32) {
		if p := binary.NativeEndian.Uint32(rec[16:]); p >= base && p < base+2 {
			binary.NativeEndian.PutUint32(rec[16:], p-base+1000)
		}
	}
	n := 0
	for k := range seen {
		rel(seen[k], 29150)
		rel(kSeen[k], 29100)
		if binary.NativeEndian.Uint32(kSeen[k]) != 0 {
			n++
		}
		if !bytes.Equal(seen[k], kSeen[k]) {
			t.Errorf("seen[%d]: bpfhost %x, kernel %x", k, seen[k], kSeen[k])
		}
	}
	if n < 10 {
		t.Errorf("the kernel's programs recorded %d runs, want at least 10: the client did not do what the test expects", n)
	}
}

// send(2) without an address on a UDPv6 socket connected to an
// IPv4-mapped peer runs the sendmsg4 programs, as Linux's udpv6_sendmsg
// hands the peer to udp_sendmsg: redirect_udp sends the datagram for port
// 9 to port 10 in both. Sends without an address on other sockets run no
// program (a connected UDPv4 or UDPv6 socket, a TCP connection).
func TestExecMappedSendAgreesWithKernel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("attaching cgroup programs needs root")
	}
	if testing.Short() {
		t.Skip("runs supervised commands")
	}
	agreeWithKernel(t, map[string]ebpf.AttachType{"redirect_udp": ebpf.AttachCGroupUDP4Sendmsg, "redirect_udp6": ebpf.AttachCGroupUDP6Sendmsg},
		[]string{"udp-csendto", "6", "[::ffff:127.0.0.1]:9", "none", "udp-csendto", "6", "[::ffff:127.0.0.1]:9", "none",
			"udp-csendto", "4", "127.0.0.1:9", "none", "udp-csendto", "6", "[::ffff:127.0.0.1]:9", "null",
			"connect", "127.0.0.1:10"})
}
