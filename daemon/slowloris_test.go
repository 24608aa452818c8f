package daemon

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// trickle writes s to c one byte every gap until the daemon closes the
// connection or s is sent, and reports whether the daemon closed it first.
func trickle(c net.Conn, s string, gap time.Duration) (closed bool) {
	for i := range len(s) {
		if _, err := c.Write([]byte{s[i]}); err != nil {
			return true
		}
		time.Sleep(gap)
	}
	return false
}

// TestSlowLoris: a client that keeps sending, one byte at a time, does not
// hold its connection past the limit: the header and body deadlines bound
// a request's whole sending, not the gap between two bytes. Each trickle
// would last 5 s (250 bytes, 20 ms apart) and the limit is short (150
// ms); the daemon closing the connection before the trickle ends is what
// is checked, which leaves a slow machine 30 times the limit.
func TestSlowLoris(t *testing.T) {
	const gap = 20 * time.Millisecond
	for _, tc := range []struct {
		name      string
		lim       ConnLimits
		head, pad string
	}{
		{"headers", ConnLimits{HeaderTimeout: short}, "GET " + api.PathVersion + " HTTP/1.1\r\nX: ", strings.Repeat("a", 250)},
		{"body", ConnLimits{BodyTimeout: short}, "POST " + api.PathMapGet + " HTTP/1.1\r\nHost: x\r\nContent-Length: 300\r\n\r\n", strings.Repeat(" ", 250)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sock, _ := serveLimits(t, Options{Engine: "interp"}, nil, tc.lim)
			c := dialRaw(t, sock)
			io.WriteString(c, tc.head)
			// The daemon closes the connection, perhaps after an answer,
			// which the trickle's writes then find (EPIPE or ECONNRESET)
			// once the answer is read.
			done := make(chan string, 1)
			go func() {
				b, _ := io.ReadAll(c)
				done <- string(b)
			}()
			if !trickle(c, tc.pad, gap) {
				t.Fatalf("the daemon let a client trickle a request for %v (limit %v)", time.Duration(len(tc.pad))*gap, short)
			}
			if b := <-done; b != "" && !strings.HasPrefix(b, "HTTP/1.1 4") {
				t.Fatalf("answer %q, want none or an error", b)
			}
		})
	}
}
