package helpers

import (
	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

func init() {
	register(linux.FnSkStorageGet, skStorageGet)
	register(linux.FnSkStorageDelete, skStorageDelete)
}

// StorageSocket is a Socket that sk storage can belong to: the socket a
// hook's context describes (docs/decisions/0038-sock-addr-socket.md).
// Sockets a lookup found have storage too (their IDs come from sock_diag).
type StorageSocket interface {
	Socket
	// StorageID names the socket for sk storage maps.
	StorageID() maps.SocketID
	// StorageCreated tells the hook that a program gave the socket a
	// value (a sock_create hook must then hand the target this very
	// socket).
	StorageCreated()
}

// storageSocketAt names the socket at addr, the argument of an sk storage
// helper: the run's own socket (own), which a sock_addr program reaches as
// ctx->sk and a cgroup_sock program as its context, or a socket a lookup
// of the run holds (sock_diag gave its cookie and inode). ok is false for
// anything else.
func storageSocketAt(rc *vm.RunContext, addr uint64) (id maps.SocketID, own StorageSocket, ok bool) {
	run, _ := rc.Value.(*Run)
	if run == nil {
		return id, nil, false
	}
	if run.sockets != nil {
		if id, ok := run.sockets.id(addr); ok {
			return id, nil, id.Cookie != 0
		}
	}
	s, _ := run.Socket.(StorageSocket)
	if s == nil || run.Ctx == nil {
		return id, nil, false
	}
	switch run.Program {
	case linux.CGroupSockAddr:
		if (*linux.SockAddrContext)(run.Ctx).SK == addr {
			return s.StorageID(), s, true
		}
	case linux.CGroupSock:
		if uint64(uintptr(run.Ctx)) == addr {
			return s.StorageID(), s, true
		}
	}
	return id, nil, false
}

// skStorageGet is bpf_sk_storage_get(map, sk, value, flags): the socket's
// value in map; with BPF_SK_STORAGE_GET_F_CREATE (1) a missing one is made,
// a copy of value (zeros if value is NULL). NULL for other flags, a socket
// without storage, or a full map.
func skStorageGet(h *impl) vm.Helper {
	const name = "bpf_sk_storage_get"
	return func(rc *vm.RunContext, mp, sk, value, flags, _ uint64) (uint64, error) {
		sm, err := h.skStorageOf(rc, mp, name)
		if sm == nil {
			return 0, err
		}
		var init []byte
		if value != 0 {
			vs := uint64(sm.Spec().ValueSize)
			if err := rc.CheckArg(value, vs, false); err != nil {
				return 0, argErr(name, "value", err)
			}
			init = vm.Bytes(value, int(vs))
		}
		id, own, ok := storageSocketAt(rc, sk)
		if !ok || flags > 1 {
			return 0, nil
		}
		p, created := sm.StorageGet(id, init, flags == 1)
		if created && own != nil {
			own.StorageCreated()
		}
		return uint64(uintptr(p)), nil
	}
}

// skStorageDelete is bpf_sk_storage_delete(map, sk): 0, -ENOENT if the
// socket has no value, -EINVAL without a socket.
func skStorageDelete(h *impl) vm.Helper {
	const name = "bpf_sk_storage_delete"
	return func(rc *vm.RunContext, mp, sk, _, _, _ uint64) (uint64, error) {
		sm, err := h.skStorageOf(rc, mp, name)
		if sm == nil {
			if err != nil {
				return 0, err
			}
			return ret(eINVAL), nil
		}
		id, _, ok := storageSocketAt(rc, sk)
		if !ok {
			return ret(eNOENT), nil
		}
		return ret(sm.StorageDelete(id)), nil
	}
}

// skStorageOf resolves an sk storage map argument (nil, and in checked
// runs an error, for another map).
func (h *impl) skStorageOf(rc *vm.RunContext, mp uint64, name string) (*maps.SkStorageMap, error) {
	m, err := h.mapOf(rc, mp, name)
	if m == nil {
		return nil, err
	}
	sm, ok := m.(*maps.SkStorageMap)
	if !ok {
		_, err := wrongMap(rc, name, m, 0)
		return nil, err
	}
	return sm, nil
}
