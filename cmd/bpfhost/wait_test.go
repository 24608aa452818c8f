package main

import (
	"bytes"
	"strings"
	"sync"
	"time"
)

// settle bounds the tests' waits for what normally takes milliseconds (a
// command attaching, a datagram through a bridge) on a loaded machine;
// each wait ends as soon as what it waits for happens, so only a failing
// test waits this long.
const settle = 30 * time.Second

// syncBuffer is a bytes.Buffer a command writes while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls until the buffer holds s, done is closed or settle
// passed, and reports whether it holds s.
func (b *syncBuffer) waitFor(s string, done <-chan struct{}) bool {
	for deadline := time.Now().Add(settle); ; {
		if strings.Contains(b.String(), s) {
			return true
		}
		select {
		case <-done:
			return strings.Contains(b.String(), s)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}
