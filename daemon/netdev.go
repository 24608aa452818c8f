package daemon

import (
	"net"
	"sort"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// linksOn lists the links on a device (as the device or a bridge's peer),
// by ID. d.mu is held.
func (d *Daemon) linksOn(dev string) []*linkObj {
	var out []*linkObj
	for _, k := range d.links {
		if k.dev == dev || k.peer == dev {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// checkDev fails as bpftool does ("invalid devname") for a device that is
// not in the daemon's network namespace, unless a link is on it (the
// daemon's links are the devices' programs even while the device is being
// replaced).
func checkDev(dev string, linked bool) error {
	if linked {
		return nil
	}
	if _, err := net.InterfaceByName(dev); err != nil {
		return errorf(api.CodeNotFound, "invalid devname %s", dev)
	}
	return nil
}

// NetShow lists the links of one device, as "bpftool net show dev IF"
// lists its programs; a device that does not exist is an error.
func (d *Daemon) NetShow(dev string) ([]api.LinkInfo, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ks := d.linksOn(dev)
	if err := checkDev(dev, len(ks) > 0); err != nil {
		return nil, err
	}
	out := make([]api.LinkInfo, 0, len(ks))
	for _, k := range ks {
		out = append(out, d.linkInfo(k))
	}
	return out, nil
}
