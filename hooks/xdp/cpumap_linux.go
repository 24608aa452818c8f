package xdp

import (
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost"
)

// cpuQueueSize is the most frames a worker's cpumap queue holds; a cpumap
// entry's qsize lowers it.
const cpuQueueSize = 256

// cpuQueue is a worker's cpumap queue: frames that any worker redirected
// to a CPU this worker serves (CPU c is served by worker c mod workers), in
// pages of its own, with the entry's program. The worker runs them as
// Linux's cpumap kthread does on the target CPU.
type cpuQueue struct {
	mu      sync.Mutex
	arena   []byte
	frames  []bpfhost.XDPFrame
	progs   []*bpfhost.Program
	from    []*iface
	head, n int
	efd     int // eventfd, signalled when the queue becomes non-empty
}

func newCPUQueue(pageSize int) (*cpuQueue, error) {
	q := &cpuQueue{progs: make([]*bpfhost.Program, cpuQueueSize), from: make([]*iface, cpuQueueSize), efd: -1}
	var err error
	if q.frames, q.arena, err = mapPages(cpuQueueSize, pageSize, "cpumap queue"); err != nil {
		return nil, err
	}
	if q.efd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		q.close()
		return nil, fmt.Errorf("xdp: eventfd: %w", err)
	}
	return q, nil
}

func (q *cpuQueue) close() {
	if q.arena != nil {
		_ = unix.Munmap(q.arena)
		q.arena = nil
	}
	if q.efd >= 0 {
		unix.Close(q.efd)
		q.efd = -1
	}
}

// copyFrame copies src's metadata and data into dst's page at the same
// offsets.
func copyFrame(dst, src *bpfhost.XDPFrame) {
	copy(dst.Page[src.Meta:src.End], src.Page[src.Meta:src.End])
	dst.Meta, dst.Data, dst.End = src.Meta, src.Data, src.End
	dst.IngressIfindex, dst.RxQueueIndex, dst.EgressIfindex = src.IngressIfindex, src.RxQueueIndex, 0
}

// enqueue copies f into the queue unless it holds limit frames already.
func (q *cpuQueue) enqueue(f *bpfhost.XDPFrame, in *iface, prog *bpfhost.Program, limit int) bool {
	q.mu.Lock()
	if q.n >= min(limit, len(q.frames)) {
		q.mu.Unlock()
		return false
	}
	i := (q.head + q.n) % len(q.frames)
	copyFrame(&q.frames[i], f)
	q.progs[i], q.from[i] = prog, in
	q.n++
	wake := q.n == 1
	q.mu.Unlock()
	if wake {
		var one [8]byte
		one[0] = 1
		_, _ = unix.Write(q.efd, one[:])
	}
	return true
}

// toCPU hands frame i to the worker serving the cpumap entry's CPU, or
// counts why it could not.
func (wk *worker) toCPU(i int, in *iface, slot int) {
	f := &wk.frames[i]
	cpu := f.Redirect.Ifindex
	qsize, prog, ok, err := f.Redirect.CPUMapEntry(slot)
	if !ok {
		wk.c.redirectErrors.Add(1)
		reason := "no cpumap entry"
		if err != nil {
			reason = err.Error()
		}
		wk.l.traceLine(fmt.Sprintf("xdp_redirect_err: prog=%s ifindex=%d cpu=%d: %s", wk.l.prog.Load().Name(), in.index, cpu, reason))
		return
	}
	target := wk.l.workers[int(cpu)%len(wk.l.workers)]
	if !target.cpuq.enqueue(f, in, prog, qsize) {
		wk.c.cpumapDrops.Add(1)
	}
}

// drainCPU runs the frames of the worker's cpumap queue, a batch at a
// time, each with its entry's program (none: XDP_PASS).
func (wk *worker) drainCPU() {
	q := wk.cpuq
	var buf [8]byte
	_, _ = unix.Read(q.efd, buf[:])
	for {
		q.mu.Lock()
		k := min(q.n, len(wk.frames))
		for i := 0; i < k; i++ {
			j := (q.head + i) % len(q.frames)
			copyFrame(&wk.frames[i], &q.frames[j])
			wk.cpuProgs[i] = q.progs[j]
			wk.from[i] = wk.sockOf(q.from[j])
			q.progs[j], q.from[j] = nil, nil
		}
		q.head = (q.head + k) % len(q.frames)
		q.n -= k
		q.mu.Unlock()
		if k == 0 {
			return
		}
		for i := 0; i < k; {
			j := i + 1
			for j < k && wk.cpuProgs[j] == wk.cpuProgs[i] {
				j++
			}
			wk.runCPU(i, j, wk.cpuProgs[i])
			i = j
		}
		clear(wk.cpuProgs[:k])
	}
}

// sockOf returns the index of the worker's first socket on ifc.
func (wk *worker) sockOf(ifc *iface) int {
	for i := range wk.socks {
		if wk.socks[i].ifc == ifc {
			return i
		}
	}
	return 0
}

// runCPU runs a cpumap entry's program (nil: none, every frame passes) on
// frames [i, j) and acts on the verdicts as the cpumap kthread does:
// XDP_PASS delivers the frame to the stack (in bridge mode: the peer
// interface), XDP_REDIRECT redirects it, XDP_DROP drops it, anything else
// is traced and dropped.
func (wk *worker) runCPU(i, j int, prog *bpfhost.Program) {
	frames := wk.frames[i:j]
	slot := 0
	if prog == nil {
		for k := range frames {
			frames[k].Action, frames[k].Duration, frames[k].Redirect = Pass, 0, bpfhost.XDPRedirect{}
		}
	} else {
		var err error
		if slot, err = prog.RunXDPBatch(frames); err != nil {
			wk.l.traceLine(fmt.Sprintf("xdp: cpumap program: %v", err))
			return
		}
	}
	wk.act(i, j, prog, slot, true)
}
