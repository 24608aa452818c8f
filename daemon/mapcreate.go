package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/daemon/api"
)

// A map created on its own ("bpftool map create") is a unit without an
// object: its unitMeta.Create holds the map's spec, which loads it again
// at a restart (restoreUnit), and its one pin is its root. Its memory file
// or log, its reference table (a map of maps, a program array) and its
// freezing are kept as for the maps of an object.

// mapTypeByName returns the map type libbpf and bpftool name name
// ("percpu_hash").
func mapTypeByName(name string) (bpfhost.MapType, bool) {
	for t := bpfhost.MapType(0); t < 64; t++ {
		if t.String() == name {
			return t, true
		}
	}
	return 0, false
}

// checkObjName checks a name as the kernel checks an object's name
// (bpf_obj_name_cpy): letters, digits, '_' and '.'; at most 15 characters.
func checkObjName(name string) error {
	if len(name) >= objNameLen {
		return errorf(api.CodeInvalid, "map create failed: Invalid argument: name %q is longer than %d characters", name, objNameLen-1)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return errorf(api.CodeInvalid, "map create failed: Invalid argument: name %q: only letters, digits, '_' and '.'", name)
		}
	}
	return nil
}

// CreateMap creates a map on its own, pins it, and persists it before
// returning, as "bpftool map create FILE ..." does.
func (d *Daemon) CreateMap(ctx context.Context, req api.MapCreateRequest) (api.MapInfo, error) {
	if err := checkNewPinPath(req.Path); err != nil {
		return api.MapInfo{}, err
	}
	if req.Name == "" {
		return api.MapInfo{}, errorf(api.CodeInvalid, "map name not specified")
	}
	// libbpf cuts a long name to the kernel's 15 characters, as bpftool
	// passes it.
	name := req.Name[:min(len(req.Name), objNameLen-1)]
	if err := checkObjName(name); err != nil {
		return api.MapInfo{}, err
	}
	t, ok := mapTypeByName(req.Type)
	if !ok {
		return api.MapInfo{}, errorf(api.CodeInvalid, "unrecognized map type: %s", req.Type)
	}
	ms := &bpfhost.MapSpec{Name: name, Type: uint32(t), KeySize: req.KeySize, ValueSize: req.ValueSize, MaxEntries: req.MaxEntries, Flags: req.Flags}
	d.mu.Lock()
	if req.InnerMap != nil {
		inner, err := d.findMap(*req.InnerMap)
		if err != nil {
			d.mu.Unlock()
			return api.MapInfo{}, err
		}
		if t == bpfhost.MapArrayOfMaps || t == bpfhost.MapHashOfMaps {
			// As Linux, the template is the inner map's shape; other
			// types ignore it.
			ms.InnerMap = inner.spec.Copy()
			ms.InnerMap.Contents, ms.InnerMap.Data = nil, nil
		}
	}
	meta := unitMeta{Slots: d.opts.Slots, LoadedAt: time.Now(), Create: ms,
		Pins: []pinMeta{{Kind: kindMap, Name: name, Path: req.Path}}}
	if meta.Slots == 0 {
		meta.Slots = bpfhost.DefaultSlots()
	}
	if peer, ok := ctx.Value(peerKey{}).(Peer); ok {
		meta.UID = peer.UID
	}
	spec := createdSpec(ms)
	err := d.loadable(meta.Pins)
	var mem int64
	if err == nil {
		mem, err = d.reserve(spec, meta)
	}
	d.nextUnit++
	id := d.nextUnit
	d.mu.Unlock()
	if err != nil {
		return api.MapInfo{}, err
	}
	coll, cerr := d.newCollection(spec, meta, nil, d.memDir(id))
	d.mu.Lock()
	defer d.mu.Unlock()
	if cerr == nil {
		if cerr = d.loadable(meta.Pins); cerr != nil {
			coll.Close()
		}
	} else {
		cerr = &Error{Code: CodeOf(cerr), Err: fmt.Errorf("map create failed: %w", cerr)}
	}
	if cerr != nil {
		d.memUsed -= mem
		d.removeUnitDir(id)
		return api.MapInfo{}, cerr
	}
	u := d.register(id, spec, coll, nil, meta, mem)
	if d.opts.StateDir != "" {
		if err := d.persistNew(u); err != nil {
			d.closeUnit(u, true)
			return api.MapInfo{}, errorf(api.CodeInternal, "persisting the map: %w", err)
		}
	}
	d.log.Info("created a map", "name", name, "type", req.Type, "pin", req.Path)
	return d.mapInfo(u.maps[0]), nil
}

// createdSpec is the collection of a created map: the map alone.
func createdSpec(ms *bpfhost.MapSpec) *bpfhost.CollectionSpec {
	return &bpfhost.CollectionSpec{Maps: []*bpfhost.MapSpec{ms.Copy()}}
}

// BPF_F_RDONLY and BPF_F_WRONLY: in Linux they restrict the file descriptor
// that creates the map, not the map: a client that opens the map again (by
// its pin, as bpftool does for every command) reads and writes it, and the
// map's flags do not show them (bpf_map_flags_retain_permanent). Clients
// of the daemon always reach maps that way, so the daemon creates its maps
// without them.
const (
	flagRdOnly = 1 << 3
	flagWrOnly = 1 << 4
)

// clientAccess returns spec with BPF_F_RDONLY and BPF_F_WRONLY cleared
// (spec itself if no map has them); both on one map is Linux's EINVAL.
// They are not the verifier's (BPF_F_RDONLY_PROG is), so verdicts reached
// on spec hold for the copy.
func clientAccess(spec *bpfhost.CollectionSpec) (*bpfhost.CollectionSpec, error) {
	found := false
	for _, ms := range spec.Maps {
		if ms.Flags&flagRdOnly != 0 && ms.Flags&flagWrOnly != 0 {
			return nil, errorf(api.CodeInvalid, "map %q: flags %#x: BPF_F_RDONLY and BPF_F_WRONLY together: Invalid argument", ms.Name, ms.Flags)
		}
		found = found || ms.Flags&(flagRdOnly|flagWrOnly) != 0
	}
	if !found {
		return spec, nil
	}
	out := spec.Copy()
	for _, ms := range out.Maps {
		ms.Flags &^= flagRdOnly | flagWrOnly
	}
	return out, nil
}
