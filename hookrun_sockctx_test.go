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
