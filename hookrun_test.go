package bpfhost_test

import (
	"errors"
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// RunSockAddr and RunSock run hook programs on host contexts: verdicts and
// rewrites come back in the context; other program types are refused.
func TestRunSockHooks(t *testing.T) {
	for _, engine := range []bpfhost.Engine{bpfhost.EngineInterp, bpfhost.EngineDefault} {
		coll := loadSockaddrObject(t, engine)
		run := &bpfhost.SockRun{}
		ctx, sk := new(linux.SockAddrContext), new(linux.SockContext)
		port := func(p uint16) uint32 { return uint32(p>>8 | p<<8) } // network order in memory
		for _, tc := range []struct {
			prog     string
			port     uint16
			want     uint32
			wantPort uint16
		}{
			{"deny_port", 9, 0, 9}, {"deny_port", 10, 1, 10}, {"redirect", 9, 1, 10}, {"redirect", 80, 1, 80},
		} {
			*ctx = linux.SockAddrContext{UserFamily: 2, UserIP4: 0x0100007f, UserPort: port(tc.port), Family: 2, Type: 1, Protocol: 6}
			r, err := coll.Programs[tc.prog].RunSockAddr(ctx, sk, run)
			if err != nil || r != tc.want || ctx.UserPort != port(tc.wantPort) {
				t.Errorf("%s %s port %d: %d, %v, port %#x; want %d, port %d", engine, tc.prog, tc.port, r, err, ctx.UserPort, tc.want, tc.wantPort)
			}
		}
		*sk = linux.SockContext{Family: 2, Type: 2, Protocol: 17}
		if r, err := coll.Programs["no_udp"].RunSock(sk, run); err != nil || r != 0 {
			t.Errorf("no_udp on UDP: %d, %v", r, err)
		}
		*sk = linux.SockContext{Family: 2, Type: 1, Protocol: 6}
		if r, err := coll.Programs["mark_tcp"].RunSock(sk, run); err != nil || r != 1 || sk.Mark != 42 || sk.Priority != 3 {
			t.Errorf("mark_tcp: %d, %v, %+v", r, err, sk)
		}
		if _, err := coll.Programs["no_udp"].RunSockAddr(ctx, sk, run); !errors.Is(err, bpfhost.ErrNotSupported) {
			t.Errorf("cgroup_sock program on a sock_addr context: %v", err)
		}
		if _, err := coll.Programs["deny_port"].RunSock(sk, run); !errors.Is(err, bpfhost.ErrNotSupported) {
			t.Errorf("sock_addr program on a bpf_sock context: %v", err)
		}
	}
}

// A hook's run allocates nothing (it runs on every supervised socket call).
func TestRunSockHooksNoAlloc(t *testing.T) {
	coll := loadSockaddrObject(t, bpfhost.EngineDefault)
	run := &bpfhost.SockRun{}
	ctx, sk := new(linux.SockAddrContext), new(linux.SockContext)
	*ctx = linux.SockAddrContext{UserFamily: 2, UserIP4: 0x0100007f, UserPort: 0x5000, Family: 2, Type: 1, Protocol: 6}
	if a := testing.AllocsPerRun(100, func() { coll.Programs["deny_port"].RunSockAddr(ctx, sk, run) }); a != 0 {
		t.Errorf("RunSockAddr: %v allocations per run", a)
	}
	*sk = linux.SockContext{Family: 2, Type: 1, Protocol: 6}
	if a := testing.AllocsPerRun(100, func() { coll.Programs["mark_tcp"].RunSock(sk, run) }); a != 0 {
		t.Errorf("RunSock: %v allocations per run", a)
	}
}

// loadSockaddrObject loads the sock_addr test programs with engine.
func loadSockaddrObject(t *testing.T, engine bpfhost.Engine) *bpfhost.Collection {
	t.Helper()
	spec, err := bpfhost.LoadCollectionSpec("hooks/sockaddr/testdata/sockaddr.o")
	if err != nil {
		t.Fatal(err)
	}
	coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: engine})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { coll.Close() })
	return coll
}
