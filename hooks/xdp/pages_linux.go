package xdp

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/platform"
)

// tailReserve is the room Linux keeps behind a frame for skb_shared_info,
// which a frame must leave free in its page.
const tailReserve = bpfhost.XDPPageSize - bpfhost.XDPHeadroom - bpfhost.XDPMaxFrame

// pageSize is the size of the pages a link copies frames into, for
// interfaces whose largest MTU is mtu: Linux's page (XDPPageSize) where a
// frame of the MTU fits, as for the usual MTU of 1500; for a jumbo MTU,
// the multiple of it that holds the headroom, a frame of the MTU with a
// VLAN tag and the tail reserve, as generic XDP runs on a whole linear
// frame of any size.
func pageSize(mtu int) int {
	need := bpfhost.XDPHeadroom + mtu + 14 + vlanHLen + tailReserve
	return (need + bpfhost.XDPPageSize - 1) / bpfhost.XDPPageSize * bpfhost.XDPPageSize
}

// sizePages sets the size of the link's pages for its largest MTU. A
// frame holds at most platform.MaxPacketSize bytes whatever the MTU
// (loopback's is 65536): the verifier proves programs safe for no more,
// and RunXDPBatch refuses a larger one; receive counts it as oversize.
func (l *Link) sizePages(mtu int) {
	l.pageSize = pageSize(mtu)
	l.maxFrame = min(l.pageSize-bpfhost.XDPHeadroom-tailReserve, platform.MaxPacketSize)
}

// mapPages maps n pages of size bytes (memory that never moves, DESIGN.md
// #2) and returns a frame for each and the mapping, for what (in errors).
// A frame's Page ends tailReserve bytes before its page does: that is as
// far as bpf_xdp_adjust_tail may grow it, as Linux keeps skb_shared_info's
// room free behind a frame (data_hard_end).
func mapPages(n, size int, what string) ([]bpfhost.XDPFrame, []byte, error) {
	arena, err := unix.Mmap(-1, 0, n*size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, nil, fmt.Errorf("xdp: %s: %d pages of %d bytes: %w", what, n, size, err)
	}
	frames := make([]bpfhost.XDPFrame, n)
	for i := range frames {
		frames[i].Page = arena[i*size : (i+1)*size-tailReserve]
	}
	return frames, arena, nil
}
