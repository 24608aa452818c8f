package daemon

import (
	"context"
	"testing"

	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/remote"
)

// benchClient loads the counter object into a served daemon with a state
// directory and returns a client.
func benchClient(b *testing.B) *remote.Client {
	sock, _ := serveB(b)
	c, err := remote.Dial(sock)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Load(context.Background(), api.LoadRequest{Object: counterObject(b), PinPath: "/p", PinMaps: "/m"}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// BenchmarkLookupRoundTrip is one map lookup through the socket.
func BenchmarkLookupRoundTrip(b *testing.B) {
	c := benchClient(b)
	ctx := context.Background()
	m := api.Ref{Pinned: "/m/total"}
	for b.Loop() {
		if _, err := c.Lookup(ctx, m, u32(0)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateRoundTrip is one acknowledged map update through the
// socket: the daemon fsyncs the map's log before answering.
func BenchmarkUpdateRoundTrip(b *testing.B) {
	c := benchClient(b)
	ctx := context.Background()
	m := api.Ref{Pinned: "/m/counts"}
	i := uint64(0)
	for b.Loop() {
		i++
		if err := c.Update(ctx, m, u32(uint32(i%64)), u64(i), 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateArrayRoundTrip is one acknowledged update of an array
// through the socket: the daemon msyncs the array's memory file (no log)
// before answering.
func BenchmarkUpdateArrayRoundTrip(b *testing.B) {
	c := benchClient(b)
	ctx := context.Background()
	m := api.Ref{Pinned: "/m/total"}
	i := uint64(0)
	for b.Loop() {
		i++
		if err := c.Update(ctx, m, u32(0), u64(i), 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadUnload loads the counter object (verifying in process),
// persists it, and unpins it again.
func BenchmarkLoadUnload(b *testing.B) {
	sock, _ := serveB(b)
	c, err := remote.Dial(sock)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	obj := counterObject(b)
	for b.Loop() {
		if _, err := c.Load(ctx, api.LoadRequest{Object: obj, PinPath: "/p"}); err != nil {
			b.Fatal(err)
		}
		if err := c.Unpin(ctx, "/p"); err != nil {
			b.Fatal(err)
		}
	}
}
