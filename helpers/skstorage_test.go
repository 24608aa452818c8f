package helpers

import (
	"testing"
	"unsafe"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// storageSocket is a hook's socket with an ID for sk storage.
type storageSocket struct {
	fakeSocket
	id      maps.SocketID
	created int
}

func (s *storageSocket) StorageID() maps.SocketID { return s.id }
func (s *storageSocket) StorageCreated()          { s.created++ }

// bpf_sk_storage_get and _delete find the socket their argument names: a
// sock_addr run's ctx->sk, a cgroup_sock run's context, or a socket a
// lookup holds; anything else has no storage (NULL, -ENOENT).
func TestSkStorageHelpers(t *testing.T) {
	e := newEnv(t, vm.Checked)
	m, err := maps.New(maps.Spec{Name: "stg", Type: maps.SkStorage, KeySize: 4, ValueSize: 8, Flags: maps.FlagNoPrealloc}, 1)
	if err != nil {
		t.Fatal(err)
	}
	mp := e.host.add(m)
	e.rc.Regions = append(e.rc.Regions, vm.RegionOf("stg", m.(*maps.SkStorageMap).ValueMemory(), true))
	init, ip := e.mem("init", 8, false)
	copy(init, "abcdefgh")
	get := func(sk uint64, value, flags uint64) uint64 {
		r, err := e.call(linux.FnSkStorageGet, mp, sk, value, flags)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	// sock_addr: ctx->sk.
	own := &storageSocket{id: maps.SocketID{Cookie: 7, Inode: 70}}
	skBuf, skAddr := e.mem("bpf_sock", int(unsafe.Sizeof(linux.SockContext{})), false)
	ctx := &linux.SockAddrContext{SK: skAddr}
	e.rc.Value = &Run{Program: linux.CGroupSockAddr, Ctx: unsafe.Pointer(ctx), Socket: own}
	if r := get(skAddr, 0, 0); r != 0 {
		t.Errorf("get without create = %#x", r)
	}
	v := get(skAddr, ip, 1)
	if v == 0 || string(vm.Bytes(v, 8)) != "abcdefgh" || own.created != 1 {
		t.Fatalf("create: %#x, created %d", v, own.created)
	}
	if r := get(skAddr, 0, 1); r != v || own.created != 1 {
		t.Errorf("second get = %#x (created %d), want %#x", r, own.created, v)
	}
	if r := get(skAddr, 0, 2); r != 0 {
		t.Errorf("flags 2 = %#x, want NULL", r)
	}
	if r := get(skAddr+8, 0, 1); r != 0 {
		t.Errorf("another pointer = %#x, want NULL", r)
	}
	if r := e.mustCall(linux.FnSkStorageDelete, mp, skAddr); r != 0 {
		t.Errorf("delete = %d", r)
	}
	if r := e.mustCall(linux.FnSkStorageDelete, mp, skAddr); r != eNOENT {
		t.Errorf("second delete = %d", r)
	}

	// cgroup_sock: the context is the socket; the value of socket 7 is
	// gone, socket 8's is another.
	own2 := &storageSocket{id: maps.SocketID{Cookie: 8}}
	e.rc.Value = &Run{Program: linux.CGroupSock, Ctx: unsafe.Pointer(&skBuf[0]), Socket: own2}
	if r := get(skAddr, 0, 1); r == 0 || own2.created != 1 {
		t.Errorf("cgroup_sock create = %#x, created %d", r, own2.created)
	}

	// A socket a lookup holds: named by what sock_diag said.
	saved := lookupHost
	lookupHost = func(q *SockLookup, out *linux.SockContext, id *maps.SocketID, _ *[sockScratch]byte) bool {
		*out = linux.SockContext{Family: 2, State: 10}
		*id = maps.SocketID{Cookie: 8}
		return true
	}
	t.Cleanup(func() { lookupHost = saved })
	skb := &linux.SKBContext{}
	run := &Run{Program: linux.SchedCLS, Ctx: unsafe.Pointer(skb)}
	e.rc.Value = run
	_, ta := e.mem("tuple", 12, false)
	found, err := skLookup(&impl{}, "bpf_sk_lookup_tcp", ipprotoTCP, true)(e.rc, 0, ta, 12, 0xffffffff, 0)
	if err != nil || found == 0 {
		t.Fatalf("lookup: %#x, %v", found, err)
	}
	if r := get(found, 0, 0); r == 0 {
		t.Error("the looked-up socket 8 has no value; the cgroup_sock run made one")
	}
	run.releaseSockets()
}
