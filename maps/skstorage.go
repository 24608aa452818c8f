package maps

import (
	"encoding/binary"
	"sync"
	"time"
	"unsafe"

	"github.com/bpfhost/bpfhost/platform/linux"
)

// SkStorage is BPF_MAP_TYPE_SK_STORAGE: a value per socket, which
// programs get (and create) with bpf_sk_storage_get and remove with
// bpf_sk_storage_delete, and user space reaches with a socket's file
// descriptor as the key. See docs/decisions/0038-sock-addr-socket.md.
const SkStorage = Type(linux.MapSkStorage)

// Limits of sk storage maps.
const (
	// skStorageMaxValue is BPF_LOCAL_STORAGE_MAX_VALUE_SIZE on x86-64:
	// U16_MAX less the 128-byte struct bpf_local_storage_elem.
	skStorageMaxValue = 1<<16 - 1 - 128
	// SkStorageSockets is the most sockets one sk storage map keeps a
	// value for (fewer for large values: SkStorageMemory bounds the
	// values' memory). Linux has no such bound; see sweep for what
	// happens when a map is full.
	SkStorageSockets = 1 << 16
	// SkStorageMemory bounds the memory of one map's values.
	SkStorageMemory = 256 << 20
	// skStorageSweepEvery is the least time between two sweeps that
	// find a full map.
	skStorageSweepEvery = time.Second
)

// SocketID names a socket for sk storage: its cookie (SO_COOKIE), which
// Linux never gives another socket while the system runs, and its inode
// number, by which a sweep finds whether some process still holds it.
type SocketID struct {
	Cookie, Inode uint64
}

// validateSkStorage checks a spec as bpf_local_storage_map_alloc_check
// does (the BTF it requires of the key and value is not checked).
func (s *Spec) validateSkStorage() error {
	const flagClone = 1 << 9 // BPF_F_CLONE
	if err := s.checkFlags(FlagNoPrealloc | flagClone); err != nil {
		return err
	}
	switch {
	case s.Flags&FlagNoPrealloc == 0:
		return s.invalid("flags %#x: sk_storage requires BPF_F_NO_PREALLOC", s.Flags)
	case s.MaxEntries != 0:
		return s.invalid("max entries %d, want 0", s.MaxEntries)
	case s.KeySize != 4:
		return s.invalid("key size %d, want 4 (a socket's file descriptor)", s.KeySize)
	case s.ValueSize == 0:
		return s.invalid("value size 0, want > 0")
	case s.ValueSize > skStorageMaxValue:
		return s.tooBig("value size %d, want at most %d", s.ValueSize, skStorageMaxValue)
	}
	return nil
}

// skStorageCapacity is how many sockets a map of values of size vs keeps.
func skStorageCapacity(vs uint32) uint32 {
	return uint32(min(SkStorageSockets, SkStorageMemory/round8(uint64(vs))))
}

// SkStorageMap is an sk storage map (SkStorage): a hash map from a
// socket's cookie to its value, whose values, as a hash map's, stay where
// they are while the map exists (a program may hold one). The inodes of
// the sockets with a value are kept for sweeps.
type SkStorageMap struct {
	base
	h    *HashMap
	zero []byte // the value of a socket whose value is created from nothing
	// inodes are the inodes of the sockets with a value, where known
	// (a socket given by fd or by a hook that knows it), for sweeps.
	mu        sync.Mutex
	inodes    map[uint64]uint64 // cookie -> inode
	lastSweep time.Time
	// liveInodes lists the inodes of the sockets some process holds;
	// tests replace it.
	liveInodes func() (map[uint64]bool, error)
}

func newSkStorage(b base) *SkStorageMap {
	return newSkStorageCapacity(b, skStorageCapacity(b.spec.ValueSize))
}

// newSkStorageCapacity is newSkStorage for at most capacity sockets.
func newSkStorageCapacity(b base, capacity uint32) *SkStorageMap {
	inner := b
	inner.spec.Type, inner.spec.KeySize, inner.spec.MaxEntries = Hash, 8, capacity
	inner.spec.Flags &= FlagNoPrealloc
	return &SkStorageMap{base: b, h: newHash(inner), zero: make([]byte, b.spec.ValueSize),
		inodes: map[uint64]uint64{}, liveInodes: liveSocketInodes}
}

// Capacity returns the most sockets the map keeps a value for.
func (m *SkStorageMap) Capacity() int { return int(m.h.spec.MaxEntries) }

func cookieKey(c uint64) [8]byte {
	var k [8]byte
	binary.NativeEndian.PutUint64(k[:], c)
	return k
}

// StorageGet is bpf_sk_storage_get: the socket's value, or, if it has
// none and create is set, a new one initialised from init (zeros if nil);
// nil if it has none, or none can be made (the map is full of sockets that
// are still open). created reports that this call made the value.
func (m *SkStorageMap) StorageGet(id SocketID, init []byte, create bool) (p unsafe.Pointer, created bool) {
	k := cookieKey(id.Cookie)
	if p := m.h.LookupPtr(k[:], 0); p != nil || !create {
		return p, false
	}
	if init == nil {
		init = m.zero
	}
	r := m.h.UpdateElem(k[:], init, uint64(UpdateNoExist), 0)
	if r == E2BIG.Ret() && m.sweep() {
		r = m.h.UpdateElem(k[:], init, uint64(UpdateNoExist), 0)
	}
	if r != 0 && r != EEXIST.Ret() { // EEXIST: another run made it meanwhile
		return nil, false
	}
	m.noteInode(id)
	return m.h.LookupPtr(k[:], 0), r == 0
}

// StorageDelete is bpf_sk_storage_delete: 0, or -ENOENT if the socket has
// no value.
func (m *SkStorageMap) StorageDelete(id SocketID) int64 {
	k := cookieKey(id.Cookie)
	r := m.h.DeleteElem(k[:])
	if r == 0 {
		m.mu.Lock()
		delete(m.inodes, id.Cookie)
		m.mu.Unlock()
	}
	return r
}

func (m *SkStorageMap) noteInode(id SocketID) {
	if id.Inode == 0 {
		return
	}
	m.mu.Lock()
	m.inodes[id.Cookie] = id.Inode
	m.mu.Unlock()
}

// sweep removes the values of sockets no process holds any more, which
// Linux frees with the socket, and reports whether it removed any. It runs
// when a value cannot be created because the map is full, at most once per
// skStorageSweepEvery; it reads every process's file descriptors (a
// socket may have been passed to any of them). Sockets whose inode is
// unknown are kept.
func (m *SkStorageMap) sweep() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if now := time.Now(); now.Sub(m.lastSweep) < skStorageSweepEvery {
		return false
	} else {
		m.lastSweep = now
	}
	live, err := m.liveInodes()
	if err != nil {
		return false
	}
	freed := false
	for cookie, ino := range m.inodes {
		if live[ino] {
			continue
		}
		k := cookieKey(cookie)
		if m.h.DeleteElem(k[:]) == 0 {
			freed = true
		}
		delete(m.inodes, cookie)
	}
	return freed
}

// ValueMemory returns the memory of all values, for checked runs.
func (m *SkStorageMap) ValueMemory() []byte { return m.h.ValueMemory() }

// fdKey resolves a user-space key, a socket's file descriptor in this
// process.
func (m *SkStorageMap) fdKey(op string, key []byte) ([8]byte, SocketID, error) {
	if err := m.checkKey(op, key); err != nil {
		return [8]byte{}, SocketID{}, err
	}
	id, errno := socketOfFD(int32(binary.NativeEndian.Uint32(key)))
	if errno != 0 {
		return [8]byte{}, SocketID{}, m.errorf(op, errno, "file descriptor %d", int32(binary.NativeEndian.Uint32(key)))
	}
	return cookieKey(id.Cookie), id, nil
}

// Lookup copies the value of the socket whose file descriptor is key.
func (m *SkStorageMap) Lookup(key, valueOut []byte) error {
	return m.LookupWithFlags(key, valueOut, 0)
}

// LookupWithFlags is Lookup with BPF_F_LOCK.
func (m *SkStorageMap) LookupWithFlags(key, valueOut []byte, flags UpdateFlags) error {
	const op = "lookup"
	if err := m.userRead(op); err != nil {
		return err
	}
	k, _, err := m.fdKey(op, key)
	if err != nil {
		return err
	}
	return m.h.lookupUser(k[:], valueOut, flags)
}

// Update creates or replaces the value of the socket whose file
// descriptor is key.
func (m *SkStorageMap) Update(key, value []byte, flags UpdateFlags) error {
	const op = "update"
	if err := m.userWrite(op); err != nil {
		return err
	}
	k, id, err := m.fdKey(op, key)
	if err != nil {
		return err
	}
	err = m.h.Update(k[:], value, flags)
	if ErrnoOf(err) == E2BIG && m.sweep() {
		err = m.h.Update(k[:], value, flags)
	}
	if err == nil {
		m.noteInode(id)
	}
	return err
}

// Delete removes the value of the socket whose file descriptor is key.
func (m *SkStorageMap) Delete(key []byte) error {
	const op = "delete"
	if err := m.userWrite(op); err != nil {
		return err
	}
	_, id, err := m.fdKey(op, key)
	if err != nil {
		return err
	}
	return retErr(m.spec.Name, op, m.StorageDelete(id))
}

// NextKey is not supported, as in Linux (a socket's storage is listed by
// iterating sockets, which bpfhost does not offer).
func (m *SkStorageMap) NextKey(_, _ []byte) error {
	return notSupported(&m.base, "next key", ENOTSUPP)
}

// LookupAndDelete is not supported, as in Linux.
func (m *SkStorageMap) LookupAndDelete(_, _ []byte) error {
	return notSupported(&m.base, "lookup and delete", ENOTSUPP)
}
