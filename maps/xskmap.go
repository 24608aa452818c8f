package maps

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"github.com/bpfhost/bpfhost/platform/linux"
)

// XSKMap is BPF_MAP_TYPE_XSKMAP: AF_XDP sockets by index (usually the
// receive queue), which an XDP program redirects frames to with
// bpf_redirect_map, or looks up (a struct bpf_xdp_sock, or NULL). Linux
// fills its entries with AF_XDP socket file descriptors; bpfhost has no
// AF_XDP sockets, so every entry stays empty: a lookup finds nothing and a
// redirect takes the action its flags give for a missing entry (libxdp's
// default program passes the frame on), as Linux does on a queue no
// socket is bound to.
const XSKMap = Type(linux.MapXSKMap)

// validateXSKMap checks an xskmap spec as xsk_map_alloc does.
func (s *Spec) validateXSKMap() error {
	if err := s.checkFlags(FlagNUMANode | flagAccessMask); err != nil {
		return err
	}
	if s.KeySize != 4 || s.ValueSize != 4 {
		return s.invalid("key size %d, value size %d, want 4 and 4 (an index and a socket's file descriptor)", s.KeySize, s.ValueSize)
	}
	return nil
}

// XSKArrayMap is an xskmap (XSKMap): an array whose entries bpfhost never
// fills.
type XSKArrayMap struct{ base }

func newXSKMap(b base) *XSKArrayMap { return &XSKArrayMap{base: b} }

// Lookup is not supported from user space, as in Linux.
func (x *XSKArrayMap) Lookup(_, _ []byte) error {
	return notSupported(&x.base, "lookup", EOPNOTSUPP)
}

// Update fails: an entry is an AF_XDP socket, which bpfhost does not
// have.
func (x *XSKArrayMap) Update(key, _ []byte, _ UpdateFlags) error {
	const op = "update"
	if err := x.userWrite(op); err != nil {
		return err
	}
	if err := x.checkKey(op, key); err != nil {
		return err
	}
	if k := binary.NativeEndian.Uint32(key); k >= x.spec.MaxEntries {
		return opError(x.spec.Name, op, E2BIG, fmt.Sprintf("key %d, want below max entries %d", k, x.spec.MaxEntries))
	}
	return x.errorf(op, EOPNOTSUPP, "an xskmap entry is an AF_XDP socket, which bpfhost does not have")
}

// Delete of a key below max_entries succeeds (there is nothing to remove),
// as in Linux.
func (x *XSKArrayMap) Delete(key []byte) error {
	const op = "delete"
	if err := x.userWrite(op); err != nil {
		return err
	}
	if err := x.checkKey(op, key); err != nil {
		return err
	}
	if k := binary.NativeEndian.Uint32(key); k >= x.spec.MaxEntries {
		return opError(x.spec.Name, op, EINVAL, fmt.Sprintf("key %d, want below max entries %d", k, x.spec.MaxEntries))
	}
	return nil
}

// NextKey iterates indexes like an array.
func (x *XSKArrayMap) NextKey(key, nextOut []byte) error {
	if err := x.userRead("next key"); err != nil {
		return err
	}
	return arrayNextKey(&x.base, x.spec.MaxEntries, key, nextOut)
}

// LookupAndDelete is not supported.
func (x *XSKArrayMap) LookupAndDelete(_, _ []byte) error {
	return notSupported(&x.base, "lookup and delete", ENOTSUPP)
}

// LookupPtr finds no socket: it returns nil.
func (x *XSKArrayMap) LookupPtr([]byte, int) unsafe.Pointer { return nil }

// UpdateElem is refused: programs cannot change an xskmap (the verifier
// does not let them).
func (x *XSKArrayMap) UpdateElem([]byte, []byte, uint64, int) int64 { return -int64(EOPNOTSUPP) }

// DeleteElem is refused, as UpdateElem.
func (x *XSKArrayMap) DeleteElem([]byte) int64 { return -int64(EOPNOTSUPP) }

// ForEach is not supported for xskmaps (Linux has no iterator for them).
func (x *XSKArrayMap) ForEach(int, func(key, value unsafe.Pointer) bool) int64 {
	return -int64(EINVAL)
}

// ValueMemory is empty: the map holds no values programs can reach.
func (x *XSKArrayMap) ValueMemory() []byte { return nil }
