package daemon

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// TestTinyRequestsBoundedMemory sends requests of a few hundred bytes that
// claim huge sizes (a body's length, a chunk's, a map's key and value
// sizes and entries) and checks that the daemon answers each, within the
// API's contract, without allocating out of proportion: at most
// allocBound while serving it. Go's heap counters are the measure
// (runtime.MemStats.TotalAlloc, every goroutine's allocations); the
// daemon is otherwise idle, and the bound is far above what a request of
// this size needs (a few hundred KiB) and far below what honouring the
// claims would take (GiBs).
func TestTinyRequestsBoundedMemory(t *testing.T) {
	const allocBound = 64 << 20
	fx := newFuzzFixture(t, t.TempDir())
	defer func() { fx.close() }()
	post := func(p string, body string) []byte { return rawBody("POST", p, []byte(body)) }
	create := func(typ string, key, value, entries uint32) []byte {
		b, _ := json.Marshal(api.MapCreateRequest{Path: "/f/huge", Type: typ, KeySize: key, ValueSize: value, MaxEntries: entries, Name: "huge"})
		return post(api.PathMapCreate, string(b))
	}
	cases := map[string][]byte{
		"content length 2^40":      []byte("POST " + api.PathMapLookup + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1099511627776\r\n\r\n{\"map\":{\"id\":1}}"),
		"chunk of 2^47":            []byte("POST " + api.PathMapLookup + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7fffffffffff\r\n{\"map\":{\"id\":1}}"),
		"header line of 2 MiB":     []byte("GET " + api.PathVersion + " HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", 2<<20) + "\r\n\r\n"),
		"load, object length 2^40": []byte("POST " + api.PathProgLoad + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1099511627776\r\n\r\n{\"object\":\"AAAA"),
	}
	for _, typ := range mapTypeNames {
		for _, sz := range [][3]uint32{
			{8, 1 << 20, 1 << 20},
			{0xffffffff, 0xffffffff, 0xffffffff},
			{4, 0xffffffff, 0xffffffff},
			{8, 8, 0xffffffff},
			{0xffffffff, 8, 1},
			{4, 0xffffffff, 1},
			{4, 4, 1 << 31},
		} {
			cases[fmt.Sprintf("create %s %d/%d/%d", typ, sz[0], sz[1], sz[2])] = create(typ, sz[0], sz[1], sz[2])
		}
	}
	for name, in := range cases {
		if fx.fingerprint() != fx.base {
			fx.close()
			fx = newFuzzFixture(t, t.TempDir())
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		out := fx.exchange(t, in)
		runtime.ReadMemStats(&after)
		if got := after.TotalAlloc - before.TotalAlloc; got > allocBound {
			t.Errorf("%s: %d bytes allocated for a request of %d bytes (answer %.200q)", name, got, len(in), out)
		}
		fx.check(t, in, out)
	}
}
