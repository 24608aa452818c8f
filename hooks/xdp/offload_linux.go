package xdp

import (
	"fmt"

	"github.com/bpfhost/bpfhost/internal/ethtool"
)

// offload is one receive offload Attach turned off on an interface, to be
// turned on again at Close.
type offload struct {
	name     string
	get, set uint32 // ethtool commands
	mask     uint32 // the bit in the value (1 for on/off commands)
}

// receiveOffloads are the offloads that hand a packet socket frames larger
// than the MTU: GRO and LRO aggregate received segments into one frame.
var receiveOffloads = []offload{
	{"generic-receive-offload", ethtool.GGRO, ethtool.SGRO, 1},
	{"large-receive-offload", ethtool.GFlags, ethtool.SFlags, ethtool.FlagLRO},
}

// offloadsOff turns off the receive offloads that are on on ifc, through its
// inject socket (which keeps the interface's network namespace), and
// remembers them for restoreOffloads.
func (ifc *iface) offloadsOff() error {
	for _, o := range receiveOffloads {
		v, err := ethtool.Get(ifc.fd, ifc.name, o.get)
		if err != nil || v&o.mask == 0 {
			continue // not supported by the driver, or already off
		}
		if err := ethtool.Set(ifc.fd, ifc.name, o.set, v&^o.mask); err != nil {
			return fmt.Errorf("xdp: %s: turning off %s (frames would exceed the MTU): %w", ifc.name, o.name, privilege(err, "CAP_NET_ADMIN"))
		}
		ifc.offloads = append(ifc.offloads, o)
	}
	return nil
}

// restoreOffloads turns on again what offloadsOff turned off; ifc.mu is held.
func (ifc *iface) restoreOffloads() {
	for _, o := range ifc.offloads {
		if v, err := ethtool.Get(ifc.fd, ifc.name, o.get); err == nil {
			_ = ethtool.Set(ifc.fd, ifc.name, o.set, v|o.mask)
		}
	}
	ifc.offloads = nil
}

// Offloads describes the receive offloads Attach turned off (they are
// turned on again at Close), one line per interface and offload.
func (l *Link) Offloads() []string {
	var out []string
	for _, ifc := range l.ifaces {
		for _, o := range ifc.offloads {
			out = append(out, fmt.Sprintf("%s: %s off until detach (frames must fit the MTU)", ifc.name, o.name))
		}
	}
	return out
}
