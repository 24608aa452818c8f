package daemon

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/daemon/api"
)

// A request's body is bounded twice (docs/daemon.md, "Limits"): by its
// call's limit, what the largest valid request of that call can take, and
// by the server's budget of body bytes being read and decoded at once
// (ConnLimits.MaxBodyBytes), so that the memory requests hold is bounded
// however many connections send them. JSON decoding holds about twice a
// body (the text and the decoded bytes), until the call returns.

// smallBody is the limit of a call that carries no data, only references,
// names, pin paths and flags: its answer is E2BIG beyond it. Bodies this
// small are not charged to the budget: the limits on connections bound
// them (MaxConns of them at most).
const smallBody = 64 << 10

// maxRunInput bounds each of a test run's data_in and ctx_in: more than
// any program type takes (an XDP packet with all its fragments is 17
// pages and a head; a context is at most a page for the types that take
// one), so that a run that reaches the daemon fails with bpftool's
// message, not the body limit's.
const maxRunInput = 256 << 10

// bodyLimit is the most bytes a request of the call at path may send.
func (s *Server) bodyLimit(path string) int64 {
	enc := func(n int64) int64 { return int64(base64.StdEncoding.EncodedLen(int(n))) }
	switch path {
	case api.PathProgLoad:
		return enc(int64(s.d.opts.MaxObjectSize)) + smallBody
	case api.PathProgRun:
		return 2*enc(maxRunInput) + smallBody
	case api.PathMapLookup, api.PathMapUpdate, api.PathMapDelete, api.PathMapNextKey, api.PathMapPush:
		key, value := s.d.entrySize()
		return enc(key) + enc(value) + smallBody
	}
	return smallBody
}

// entrySize is the largest key and value, as the API gives them (a
// per-CPU value with one copy per slot), of the maps the daemon has made
// since it started: a map call's key and value are at most those.
func (d *Daemon) entrySize() (key, value int64) {
	return d.maxKey.Load(), d.maxValue.Load()
}

// noteEntrySize raises entrySize to m's, for a new map.
func (d *Daemon) noteEntrySize(m *bpfhost.Map) {
	v := int64(m.ValueSize())
	if m.Type().PerCPU() {
		v = int64((m.ValueSize()+7)&^7) * int64(m.Slots())
	}
	d.maxKey.raise(int64(m.KeySize()))
	d.maxValue.raise(v)
}

// atomicMax is the largest number it was raised to.
type atomicMax struct{ atomic.Int64 }

func (a *atomicMax) raise(n int64) {
	for {
		old := a.Load()
		if n <= old || a.CompareAndSwap(old, n) {
			return
		}
	}
}

// bodyDeadlineKey is the context key of a request's deadline (serveOne's),
// which also bounds its wait for room in the body budget.
type bodyDeadlineKey struct{}

// admitBody checks r's body against its call's limit and reserves it in
// the server's budget: a declared length over the limit or the budget
// is E2BIG at once, without reading the body; a body that finds no room
// before the request's deadline is EAGAIN (503). Either answer closes the
// connection, whose unread body is dropped. A body of unknown length
// (chunked) is charged the call's limit. release gives the bytes back,
// when the call has returned and its decoded request is dropped.
func (s *Server) admitBody(w http.ResponseWriter, r *http.Request, limit int64) (release func(), ok bool) {
	refuse := func(status int, code, msg string) (func(), bool) {
		w.Header().Set("Connection", "close")
		writeError(w, status, api.Error{Code: code, Message: msg})
		return nil, false
	}
	n := r.ContentLength
	if n > limit {
		return refuse(statusOf(api.CodeTooBig), api.CodeTooBig, fmt.Sprintf("request body of %d bytes over the call's limit of %d bytes", n, limit))
	}
	if n < 0 {
		n = limit
	}
	budget := s.Limits.MaxBodyBytes
	if n <= smallBody || budget <= 0 {
		return func() {}, true
	}
	if n > budget {
		return refuse(statusOf(api.CodeTooBig), api.CodeTooBig, fmt.Sprintf("request body of %d bytes over the daemon's budget of %d bytes for the bodies it reads at once", n, budget))
	}
	deadline, _ := r.Context().Value(bodyDeadlineKey{}).(time.Time)
	if !s.bodies.acquire(r.Context(), n, budget, deadline, s.streams.Done()) {
		return refuse(statusOf(api.CodeAgain), api.CodeAgain, fmt.Sprintf("the daemon is reading other requests' bodies (%d bytes at most at once): try again later", budget))
	}
	return func() { s.bodies.release(n) }, true
}

// bodyBudget counts the bytes of the request bodies being read and
// decoded, which together stay within a maximum.
type bodyBudget struct {
	mu      sync.Mutex
	used    int64
	waiting int           // requests waiting for room (for tests)
	peak    int64         // the most used at once (for tests)
	freed   chan struct{} // closed when bytes are given back, made by a waiter
}

// acquire reserves n bytes of most, waiting for room until deadline (none
// if zero), ctx or stop end; it reports whether it reserved them.
func (b *bodyBudget) acquire(ctx context.Context, n, most int64, deadline time.Time, stop <-chan struct{}) bool {
	var expired <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		expired = t.C
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.used+n > most {
		if b.freed == nil {
			b.freed = make(chan struct{})
		}
		freed := b.freed
		b.waiting++
		b.mu.Unlock()
		gaveUp := false
		select {
		case <-freed:
		case <-expired:
			gaveUp = true
		case <-ctx.Done():
			gaveUp = true
		case <-stop:
			gaveUp = true
		}
		b.mu.Lock()
		b.waiting--
		if gaveUp {
			return false
		}
	}
	b.used += n
	b.peak = max(b.peak, b.used)
	return true
}

// release gives back n bytes acquire reserved, and wakes the waiters.
func (b *bodyBudget) release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	if b.freed != nil {
		close(b.freed)
		b.freed = nil
	}
}
