package daemon

import (
	"errors"
	"fmt"
	"net"
	"sort"

	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/hooks/xdp"
)

// Links are XDP attachments the daemon owns (hooks/xdp). They behave as
// Linux's netlink XDP attachments that "bpftool net attach" makes: a link
// stays until "net detach" or "link detach", whether pinned or not, or
// until a device it is attached to goes away (watchLink, as Linux drops the
// XDP program of a deleted device), and it holds its program (and so the
// program's object) alive. A link is kept in its unit's unit.json and
// attached again when the daemon starts; a device that is gone by then
// drops the link. Pins name links as they name programs and maps.

// linkObj is an attached XDP program.
type linkObj struct {
	id      uint32
	p       *prog
	dev     string
	peer    string
	ifindex int
	l       *xdp.Link
	pins    []string
	stop    chan struct{} // closed when the link is dropped
}

// linkMeta is a link in unitMeta: the program by name and the devices.
type linkMeta struct {
	Prog string   `json:"prog"`
	Dev  string   `json:"dev"`
	Peer string   `json:"peer,omitempty"`
	Pins []string `json:"pins,omitempty"`
}

func (d *Daemon) linkInfo(k *linkObj) api.LinkInfo {
	st := k.l.Stats()
	info := api.LinkInfo{ID: k.id, Type: "xdp", ProgID: k.p.id, Ifindex: k.ifindex, Devname: k.dev, Peer: k.peer,
		Pinned: append([]string(nil), k.pins...), Packets: st.Packets, Bytes: st.Bytes}
	for i, v := range st.Verdicts {
		if v.Packets > 0 {
			if info.Verdicts == nil {
				info.Verdicts = map[string]uint64{}
			}
			info.Verdicts[xdp.ActionNames[i]] = v.Packets
		}
	}
	return info
}

// attach attaches p to dev (and peer) and registers the link. d.mu is
// held.
func (d *Daemon) attach(p *prog, dev, peer string, pins []string) (*linkObj, error) {
	if k := d.linkOn(dev, peer); k != nil {
		return nil, errorf(api.CodeBusy, "device %s: XDP program already attached (link %d): Device or resource busy; detach it, or attach with overwrite", dev, k.id)
	}
	for _, pin := range pins {
		if err := checkPinPath(pin); err != nil {
			return nil, err
		}
		if _, ok := d.pins[pin]; ok {
			return nil, errorf(api.CodeExists, "pin %s: already exists", pin)
		}
	}
	ifc, err := net.InterfaceByName(dev)
	if err != nil {
		return nil, errorf(api.CodeNotFound, "device %s: %v", dev, err)
	}
	l, err := xdp.Attach(p.p, xdp.Options{Interface: dev, Peer: peer})
	if errors.Is(err, xdp.ErrNotSupported) {
		return nil, errorf(api.CodeNotSupp, "%w", err)
	}
	if err != nil {
		return nil, errorf(api.CodeInvalid, "%w", err)
	}
	d.nextID++
	k := &linkObj{id: d.nextID, p: p, dev: dev, peer: peer, ifindex: ifc.Index, l: l, stop: make(chan struct{})}
	go d.watchLink(k)
	for _, pin := range pins {
		k.pins = append(k.pins, pin)
		d.pins[pin] = k
	}
	d.links[k.id] = k
	p.links = append(p.links, k)
	return k, nil
}

// AttachXDP attaches a program to a device, as "bpftool net attach xdp";
// the link is persisted before the call returns.
func (d *Daemon) AttachXDP(req api.NetAttachRequest) (api.LinkInfo, error) {
	if req.Dev == "" {
		return api.LinkInfo{}, errorf(api.CodeInvalid, "no device")
	}
	if req.Peer == req.Dev {
		return api.LinkInfo{}, errorf(api.CodeInvalid, "peer %s is the device itself", req.Peer)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return api.LinkInfo{}, errorf(api.CodeInternal, "daemon is shutting down")
	}
	p, err := d.findProg(req.Prog)
	if err != nil {
		return api.LinkInfo{}, err
	}
	if p.p.Type() != "xdp" {
		return api.LinkInfo{}, errorf(api.CodeInvalid, "program %d is a %s program, want xdp", p.id, p.p.Type())
	}
	if k := d.linkOn(req.Dev, req.Peer); k != nil && req.Overwrite {
		return d.overwrite(k, p, req)
	}
	k, err := d.attach(p, req.Dev, req.Peer, nil)
	if err != nil {
		return api.LinkInfo{}, err
	}
	if err := d.writeMeta(p.u); err != nil {
		d.dropLink(k)
		return api.LinkInfo{}, errorf(api.CodeInternal, "persisting the link: %w", err)
	}
	d.log.Info("attached", "link", k.id, "prog", p.id, "dev", req.Dev, "peer", req.Peer)
	return d.linkInfo(k), nil
}

// DetachXDP detaches the XDP program of a device, as "bpftool net detach
// xdp dev IF".
func (d *Daemon) DetachXDP(dev string) error {
	return d.NetDetach(api.NetDetachRequest{Dev: dev})
}

// NetDetach detaches the XDP program of a device in a mode, as "bpftool
// net detach {xdp | xdpgeneric | xdpdrv | xdpoffload} dev IF": the
// daemon's links are in generic mode, so only that mode (or none given)
// detaches one; the others succeed without detaching, as on Linux.
func (d *Daemon) NetDetach(req api.NetDetachRequest) error {
	switch req.Mode {
	case "", api.XDPModeGeneric, api.XDPModeDriver, api.XDPModeOffload:
	default:
		return errorf(api.CodeInvalid, "invalid XDP mode %q", req.Mode)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if req.Mode == "" || req.Mode == api.XDPModeGeneric {
		for _, k := range d.linksOn(req.Dev) {
			return d.detach(k)
		}
	}
	// As Linux: detaching from a device without a program (in that
	// mode) succeeds; a device that does not exist is an error.
	return checkDev(req.Dev, len(d.linksOn(req.Dev)) > 0)
}

// Links lists the links by ID.
func (d *Daemon) Links() []api.LinkInfo {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]api.LinkInfo, 0, len(d.links))
	for _, k := range d.links {
		out = append(out, d.linkInfo(k))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// findLink finds a link by ID or pin. d.mu is held.
func (d *Daemon) findLink(r api.Ref) (*linkObj, error) {
	switch {
	case r.ID != 0 && r.Name == "" && r.Pinned == "" && r.Tag == "":
		if k := d.links[r.ID]; k != nil {
			return k, nil
		}
		return nil, errorf(api.CodeNotFound, "link %d: no such link", r.ID)
	case r.Pinned != "" && r.ID == 0 && r.Name == "" && r.Tag == "":
		switch o := d.pins[r.Pinned].(type) {
		case *linkObj:
			return o, nil
		case nil:
			return nil, errorf(api.CodeNotFound, "pin %s: no such pin", r.Pinned)
		default:
			return nil, errorf(api.CodeInvalid, "pin %s is not a link", r.Pinned)
		}
	}
	return nil, errorf(api.CodeInvalid, "a link is named by \"id ID\" or \"pinned PATH\"")
}

// Link describes one link.
func (d *Daemon) Link(r api.Ref) (api.LinkInfo, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k, err := d.findLink(r)
	if err != nil {
		return api.LinkInfo{}, err
	}
	return d.linkInfo(k), nil
}

// PinLink pins a link at a path.
func (d *Daemon) PinLink(r api.Ref, at string) error {
	if err := checkNewPinPath(at); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	k, err := d.findLink(r)
	if err != nil {
		return err
	}
	if _, ok := d.pins[at]; ok {
		return errorf(api.CodeExists, "pin %s: already exists", at)
	}
	k.pins = append(k.pins, at)
	d.pins[at] = k
	if err := d.writeMeta(k.p.u); err != nil {
		return errorf(api.CodeInternal, "persisting the pin: %w", err)
	}
	return nil
}

// DetachLink detaches a link, as "bpftool link detach".
func (d *Daemon) DetachLink(r api.Ref) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	k, err := d.findLink(r)
	if err != nil {
		return err
	}
	return d.detach(k)
}

// detach detaches k, persists that, and unloads its program's object if
// nothing else holds it. d.mu is held.
func (d *Daemon) detach(k *linkObj) error {
	cerr := d.dropLink(k)
	u := k.p.u
	if _, ok := d.units[u.id]; !ok {
		return cerr
	}
	if err := d.collect(u); err != nil {
		return err
	}
	d.log.Info("detached", "link", k.id, "dev", k.dev)
	if cerr != nil {
		return errorf(api.CodeInternal, "detaching: %w", cerr)
	}
	return nil
}

// watchLink detaches a link that stopped by itself because a device it is
// attached to went away (deleted, or its network namespace removed), as
// Linux drops the XDP attachment of a deleted device: the link leaves the
// listings, its pins and the unit's state, and the program with it if
// nothing else holds it.
func (d *Daemon) watchLink(k *linkObj) {
	select {
	case <-k.stop:
		return
	case <-k.l.Done():
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.links[k.id] != k {
		return // dropped meanwhile
	}
	d.log.Warn("link stopped, detaching it", "link", k.id, "dev", k.dev, "peer", k.peer, "err", k.l.Err())
	if err := d.detach(k); err != nil {
		d.log.Error("detaching a stopped link", "link", k.id, "err", err)
	}
}

// dropLink unregisters and closes a link. d.mu is held.
func (d *Daemon) dropLink(k *linkObj) error {
	if d.links[k.id] == k {
		close(k.stop)
	}
	delete(d.links, k.id)
	for _, pin := range k.pins {
		delete(d.pins, pin)
	}
	k.pins = nil
	k.p.links = removeLink(k.p.links, k)
	return k.l.Close()
}

// linkMetas are the links of u's programs, for unit.json. d.mu is held.
func linkMetas(u *unit) []linkMeta {
	var out []linkMeta
	for _, p := range u.progs {
		if !p.live {
			continue
		}
		for _, k := range p.links {
			out = append(out, linkMeta{Prog: p.p.Name(), Dev: k.dev, Peer: k.peer, Pins: append([]string(nil), k.pins...)})
		}
	}
	return out
}

// restoreLinks attaches the links of a restored unit again; a link that
// cannot be attached (its device is gone) is logged and dropped, and
// dropped reports one. d.mu is held.
func (d *Daemon) restoreLinks(u *unit, links []linkMeta) (dropped bool) {
	for _, lm := range links {
		var p *prog
		for _, q := range u.progs {
			if q.p.Name() == lm.Prog {
				p = q
			}
		}
		var err error
		if p == nil {
			err = fmt.Errorf("no program %q", lm.Prog)
		} else {
			_, err = d.attach(p, lm.Dev, lm.Peer, lm.Pins)
		}
		if err != nil {
			d.log.Warn("state: dropping a link", "dev", lm.Dev, "prog", lm.Prog, "err", err)
			dropped = true
		}
	}
	return dropped
}

// closeLinks closes the links of u's programs. d.mu is held.
func (d *Daemon) closeLinks(u *unit) error {
	var err error
	for _, p := range u.progs {
		for len(p.links) > 0 {
			if cerr := d.dropLink(p.links[0]); cerr != nil && err == nil {
				err = cerr
			}
		}
	}
	return err
}
