package bpfhost_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// A sock_addr program reads ctx->sk, the struct bpf_sock RunSockAddr is
// given, in every engine (and checked: the struct is a read-only region);
// without one, the run is refused rather than handing the program NULL,
// which it may dereference unchecked (Linux's ctx->sk is never NULL).
func TestRunSockAddrSocket(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("hooks/sockaddr/testdata/sockctx.o")
	if err != nil {
		t.Fatal(err)
	}
	sk := &linux.SockContext{BoundDevIf: 1, Family: 2, Type: 1, Protocol: 6, Mark: 3, Priority: 2,
		SrcIP4: 0x0100007f, SrcPort: 28900, DstPort: 0x0a00, DstIP4: 0x0200007f, State: 7, RxQueueMapping: -1}
	for _, opts := range []bpfhost.CollectionOptions{{Engine: bpfhost.EngineInterp}, {Engine: bpfhost.EngineInterp, Checked: true},
		{Engine: bpfhost.EngineJIT}, {Engine: bpfhost.EngineJIT, Checked: true}} {
		coll, err := bpfhost.NewCollection(spec, &opts)
		if err != nil {
			t.Fatal(err)
		}
		ctx := &linux.SockAddrContext{UserFamily: 2, UserIP4: 0x0100007f, UserPort: 0x0a00, Family: 2, Type: 1, Protocol: 6}
		p := coll.Programs["sk_connect4"]
		if !p.MayReadSocket() || !coll.Programs["opts_bind6"].MayReadSocket() {
			t.Errorf("MayReadSocket false for programs that read ctx->sk")
		}
		if r, err := p.RunSockAddr(ctx, sk, &bpfhost.SockRun{}); err != nil || r != 1 {
			t.Fatalf("%+v: %d, %v", opts, r, err)
		}
		rec, err := coll.Maps["fields"].LookupBytes(uint32(0))
		if err != nil {
			t.Fatal(err)
		}
		u := func(i int) uint32 { return binary.NativeEndian.Uint32(rec[4*i:]) }
		got := [...]uint32{u(0), u(1), u(2), u(3), u(4), u(5), u(6), u(7), u(12), u(13), u(14), u(15), u(20), u(21)}
		want := [...]uint32{1, 1, 2, 1, 6, 3, 2, 0x0100007f, 28900, 0x0a00, 0x0a00, 0x0200007f, 7, 0xffffffff}
		if got != want {
			t.Errorf("%+v: recorded %v, want %v", opts, got, want)
		}
		if _, err := p.RunSockAddr(ctx, nil, &bpfhost.SockRun{}); !errors.Is(err, bpfhost.ErrInvalid) {
			t.Errorf("%+v: run without a socket: %v, want ErrInvalid", opts, err)
		}
		coll.Close()
	}
	if loadSockaddrObject(t, bpfhost.EngineInterp).Programs["deny_port"].MayReadSocket() {
		t.Error("MayReadSocket true for deny_port, which reads only the user address")
	}
}

// hookSocket is a hook's socket for RunSockAddr: sk storage names it by
// its cookie.
type hookSocket struct{ cookie uint64 }

func (s *hookSocket) Cookie() uint64                   { return s.cookie }
func (s *hookSocket) NetnsCookie() uint64              { return 1 }
func (s *hookSocket) Bind([]byte) int64                { return 0 }
func (s *hookSocket) StorageID() bpfhost.SocketID      { return bpfhost.SocketID{Cookie: s.cookie} }
func (s *hookSocket) StorageCreated()                  {}
func (s *hookSocket) Kind() (int, int, int, bool)      { return 2, 1, 6, false }
func (s *hookSocket) SetOption(int, int, []byte) int64 { return 0 }
func (s *hookSocket) GetOption(_, _ int, v []byte) int64 {
	clear(v)
	v[0] = 7
	return int64(len(v))
}

// sk storage through ctx->sk in every engine: a value per socket, counted
// by each run on it (skstorage.o's stg_connect4 records the count).
func TestRunSockAddrStorage(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("hooks/sockaddr/testdata/skstorage.o")
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []bpfhost.CollectionOptions{{Engine: bpfhost.EngineInterp}, {Engine: bpfhost.EngineInterp, Checked: true},
		{Engine: bpfhost.EngineJIT}, {Engine: bpfhost.EngineJIT, Checked: true}} {
		coll, err := bpfhost.NewCollection(spec, &opts)
		if err != nil {
			t.Fatal(err)
		}
		run := &bpfhost.SockRun{}
		ctx, sk := new(linux.SockAddrContext), new(linux.SockContext)
		var want []uint32
		for i, cookie := range []uint64{5, 5, 6, 5} {
			run.SetTask(nil, &hookSocket{cookie: cookie})
			*ctx = linux.SockAddrContext{UserFamily: 2, UserPort: 0x0a00, Family: 2, Type: 1, Protocol: 6}
			if r, err := coll.Programs["stg_connect4"].RunSockAddr(ctx, sk, run); err != nil || r != 1 {
				t.Fatalf("%+v: run %d: %d, %v", opts, i, r, err)
			}
			want = append(want, []uint32{1, 2, 1, 3}[i])
		}
		for i, w := range want {
			rec, err := coll.Maps["seen"].LookupBytes(uint32(i))
			if err != nil {
				t.Fatal(err)
			}
			// struct seen: hook, found, calls, created_by, last_port.
			if calls := binary.NativeEndian.Uint32(rec[8:]); calls != w || binary.NativeEndian.Uint32(rec[12:]) != 1 {
				t.Errorf("%+v: run %d: calls %d (created by %d), want %d", opts, i, calls, binary.NativeEndian.Uint32(rec[12:]), w)
			}
		}
		coll.Close()
	}
}

// bpf_setsockopt and bpf_getsockopt reach the hook's socket in every
// engine, after Linux's checks (sockctx.o's opts_connect4).
func TestRunSockAddrSockopt(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("hooks/sockaddr/testdata/sockctx.o")
	if err != nil {
		t.Fatal(err)
	}
	for _, engine := range []bpfhost.Engine{bpfhost.EngineInterp, bpfhost.EngineJIT} {
		coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: engine})
		if err != nil {
			t.Fatal(err)
		}
		run := &bpfhost.SockRun{}
		run.SetTask(nil, &hookSocket{cookie: 1})
		ctx := &linux.SockAddrContext{UserFamily: 2, UserPort: 0x0a00, Family: 2, Type: 1, Protocol: 6}
		if r, err := coll.Programs["opts_connect4"].RunSockAddr(ctx, new(linux.SockContext), run); err != nil || r != 1 {
			t.Fatalf("%s: %d, %v", engine, r, err)
		}
		rec, err := coll.Maps["fields"].LookupBytes(uint32(0))
		if err != nil {
			t.Fatal(err)
		}
		// struct rec: 88 bytes of fields, then __s64 ret[8], __u32 got[4].
		var ret [8]int64
		for i := range ret {
			ret[i] = int64(binary.NativeEndian.Uint64(rec[88+8*i:]))
		}
		// SO_MARK, SO_PRIORITY, IP_TOS set; SO_LINGER, an 8-byte SO_MARK
		// and IPV6_TCLASS on IPv4 refused; TCP_CONGESTION set and read.
		if want := [8]int64{0, 0, 0, -22, -22, -22, 0, 0}; ret != want {
			t.Errorf("%s: results %v, want %v", engine, ret, want)
		}
		if got := binary.NativeEndian.Uint32(rec[152:]); got != 7 {
			t.Errorf("%s: SO_MARK read %d, want the socket's 7", engine, got)
		}
		coll.Close()
	}
}
