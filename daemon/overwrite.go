package daemon

import (
	"github.com/bpfhost/bpfhost/daemon/api"
)

// linkOn returns the link that holds dev or peer (either as its device or
// as its bridge peer), or nil. d.mu is held.
func (d *Daemon) linkOn(dev, peer string) *linkObj {
	for _, k := range d.links {
		if k.dev == dev || k.peer == dev || (peer != "" && (k.dev == peer || k.peer == peer)) {
			return k
		}
	}
	return nil
}

// overwrite replaces the program of link k by p, as "bpftool net attach
// xdp PROG dev IF overwrite" replaces a device's XDP program: frames from
// then on run p (xdp.Link.Update: none is missed or run twice); the link
// keeps its ID, pins and counters. The old program's object is unloaded
// if nothing else holds it. A link whose devices differ from the request
// (another peer, or none) is not replaced: detaching it is the caller's
// choice. d.mu is held.
func (d *Daemon) overwrite(k *linkObj, p *prog, req api.NetAttachRequest) (api.LinkInfo, error) {
	if k.dev != req.Dev || k.peer != req.Peer {
		return api.LinkInfo{}, errorf(api.CodeBusy, "device %s: link %d attaches it as dev %s peer %q: overwrite replaces a program on the same devices only; detach it first",
			req.Dev, k.id, k.dev, k.peer)
	}
	old := k.p
	if old == p {
		return d.linkInfo(k), nil
	}
	if err := k.l.Update(p.p); err != nil {
		return api.LinkInfo{}, errorf(api.CodeInvalid, "%w", err)
	}
	old.links = removeLink(old.links, k)
	k.p = p
	p.links = append(p.links, k)
	if err := d.writeMeta(p.u); err != nil {
		return api.LinkInfo{}, errorf(api.CodeInternal, "persisting the link: %w", err)
	}
	// The old program's unit no longer records the link; it goes if
	// nothing else holds it.
	if err := d.collect(old.u); err != nil {
		d.log.Error("unloading the replaced program", "prog", old.id, "err", err)
	}
	d.log.Info("replaced", "link", k.id, "prog", p.id, "old", old.id, "dev", k.dev)
	return d.linkInfo(k), nil
}

// removeLink returns links without k.
func removeLink(links []*linkObj, k *linkObj) []*linkObj {
	var kept []*linkObj
	for _, o := range links {
		if o != k {
			kept = append(kept, o)
		}
	}
	return kept
}
