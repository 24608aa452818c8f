package bpfhost

import "sync"

// printkBuffer keeps the lines programs print until Collection.Printk takes
// them; it holds at most printkMax lines, dropping the oldest.
type printkBuffer struct {
	mu    sync.Mutex
	lines []string
}

const printkMax = 1 << 14

func (b *printkBuffer) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.lines) >= printkMax {
		b.lines = b.lines[1:]
	}
	b.lines = append(b.lines, line)
}

func (b *printkBuffer) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.lines
	b.lines = nil
	return out
}
