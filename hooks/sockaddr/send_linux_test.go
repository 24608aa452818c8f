package sockaddr

import (
	"bytes"
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
