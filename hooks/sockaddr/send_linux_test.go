package sockaddr

import (
	"bytes"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// withSource changes a PKTINFO control message's source in place, or adds
// one after the caller's messages, 8-byte aligned, that the kernel parses.
func TestWithSource(t *testing.T) {
	w := &worker{}
	w.sock.domain = unix.AF_INET
	copy(w.src[:], []byte{127, 0, 0, 2})
	pkt := unix.PktInfo4(&unix.Inet4Pktinfo{Ifindex: 3, Spec_dst: [4]byte{127, 0, 0, 3}})
	ttl := unix.CmsgSpace(4)
	ttlMsg := make([]byte, unix.CmsgLen(4)) // its length, not its space: unaligned end
	h := (*unix.Cmsghdr)(unsafe.Pointer(&ttlMsg[0]))
	h.Level, h.Type = unix.IPPROTO_IP, unix.IP_TTL
	h.SetLen(unix.CmsgLen(4))

	if off, size := w.pktinfo(pkt, false); off != unix.SizeofCmsghdr+4 || size != 4 {
		t.Fatalf("pktinfo: %d, %d", off, size)
	}
	if src := w.sendSource(pkt, false); !bytes.Equal(src[:4], []byte{127, 0, 0, 3}) {
		t.Errorf("sendSource %v, want the PKTINFO's 127.0.0.3", src[:4])
	}
	out := w.withSource(pkt, false)
	msgs, err := unix.ParseSocketControlMessage(out)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("patched: %v, %d messages", err, len(msgs))
	}
	if d := msgs[0].Data; !bytes.Equal(d[0:4], pkt[unix.SizeofCmsghdr:unix.SizeofCmsghdr+4]) || !bytes.Equal(d[4:8], []byte{127, 0, 0, 2}) {
		t.Errorf("patched data %v: want ifindex kept, spec_dst 127.0.0.2", d)
	}

	out = w.withSource(ttlMsg, false)
	if len(out) != ttl+unix.CmsgSpace(unix.SizeofInet4Pktinfo) {
		t.Fatalf("added: %d bytes, want %d", len(out), ttl+unix.CmsgSpace(unix.SizeofInet4Pktinfo))
	}
	msgs, err = unix.ParseSocketControlMessage(out)
	if err != nil || len(msgs) != 2 || msgs[1].Header.Level != unix.IPPROTO_IP || msgs[1].Header.Type != unix.IP_PKTINFO {
		t.Fatalf("added: %v, %+v", err, msgs)
	}
	if d := msgs[1].Data; !bytes.Equal(d[4:8], []byte{127, 0, 0, 2}) {
		t.Errorf("added data %v, want spec_dst 127.0.0.2", d)
	}

	// An IPv6 source goes into IPV6_PKTINFO's ipi6_addr.
	w.sock.domain = unix.AF_INET6
	w.src = [16]byte{15: 1}
	out = w.withSource(nil, true)
	msgs, err = unix.ParseSocketControlMessage(out)
	if err != nil || len(msgs) != 1 || msgs[0].Header.Level != unix.IPPROTO_IPV6 || msgs[0].Header.Type != unix.IPV6_PKTINFO ||
		!bytes.Equal(msgs[0].Data[:16], w.src[:]) {
		t.Errorf("IPv6: %v, %+v", err, msgs)
	}
}

// bpf_bind binds as Linux's __inet_bind with BIND_FROM_BPF: port 0 binds
// the address only (the port is chosen at connect), the option it takes
// for that is put back; a privileged port needs the target's
// CAP_NET_BIND_SERVICE; another family is EAFNOSUPPORT.
func TestBpfBind(t *testing.T) {
	w := newWorker(&Link{unprivPort: 1024})
	w.task.tid = os.Getpid()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	w.sock = sock{fd: fd, w: w, domain: unix.AF_INET, typ: unix.SOCK_STREAM, protocol: unix.IPPROTO_TCP}
	sa := []byte{unix.AF_INET, 0, 0, 0, 127, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0}
	if r := w.sock.Bind(sa); r != 0 {
		t.Fatalf("bind 127.0.0.2:0: %d", r)
	}
	local, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	if in := local.(*unix.SockaddrInet4); in.Port != 0 || in.Addr != [4]byte{127, 0, 0, 2} {
		t.Errorf("bound to %v:%d, want 127.0.0.2 and no port yet", in.Addr, in.Port)
	}
	if v, _ := unix.GetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT); v != 0 {
		t.Errorf("IP_BIND_ADDRESS_NO_PORT left at %d", v)
	}
	if r := w.sock.Bind([]byte{unix.AF_UNIX, 0, 'x'}); r != -int64(unix.EAFNOSUPPORT) {
		t.Errorf("bind AF_UNIX: %d, want -EAFNOSUPPORT", r)
	}

	// A target without CAP_NET_BIND_SERVICE: a child running as nobody.
	if os.Geteuid() != 0 {
		t.Skip("the capability check needs root to start a child as nobody")
	}
	child := exec.Command("sleep", "30")
	child.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if err := child.Start(); err != nil {
		t.Skipf("start a child as nobody: %v", err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	w.task.tid = child.Process.Pid
	fd2, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd2)
	w.sock = sock{fd: fd2, w: w, domain: unix.AF_INET, typ: unix.SOCK_STREAM, protocol: unix.IPPROTO_TCP}
	sa[2], sa[3] = 0, 81 // port 81
	if r := w.sock.Bind(sa); r != -int64(unix.EACCES) {
		t.Errorf("bind port 81 for a target without the capability: %d, want -EACCES", r)
	}
}
