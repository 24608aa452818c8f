package helpers

import (
	"sync"
	"sync/atomic"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

func init() {
	register(linux.FnRingbufOutput, ringbufOutput)
	register(linux.FnRingbufReserve, ringbufReserve)
	register(linux.FnRingbufSubmit, func(h *impl) vm.Helper { return ringbufCommit(h, "bpf_ringbuf_submit", false) })
	register(linux.FnRingbufDiscard, func(h *impl) vm.Helper { return ringbufCommit(h, "bpf_ringbuf_discard", true) })
	register(linux.FnRingbufQuery, ringbufQuery)
	register(linux.FnPerfEventOutput, perfEventOutput)
}

// ringRegistry remembers the ring buffers records were reserved in:
// bpf_ringbuf_submit and _discard get only the record's address (Linux
// finds the ring from the record header) and look its ring up here. The
// list is copied on write; a runtime has a handful of ring buffers.
type ringRegistry struct {
	mu    sync.Mutex
	rings atomic.Pointer[[]*maps.RingBufMap]
}

func (r *ringRegistry) add(m *maps.RingBufMap) {
	if r.find(m) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var list []*maps.RingBufMap
	if p := r.rings.Load(); p != nil {
		list = *p
	}
	for _, x := range list {
		if x == m {
			return
		}
	}
	list = append(list[:len(list):len(list)], m)
	r.rings.Store(&list)
}

func (r *ringRegistry) find(m *maps.RingBufMap) bool {
	if p := r.rings.Load(); p != nil {
		for _, x := range *p {
			if x == m {
				return true
			}
		}
	}
	return false
}

// owner returns the ring whose data area holds addr.
func (r *ringRegistry) owner(addr uint64) *maps.RingBufMap {
	p := r.rings.Load()
	if p == nil {
		return nil
	}
	for _, m := range *p {
		if regionSpan(vm.RegionOf("", m.DataMemory(), false), uintptr(addr)) > 0 {
			return m
		}
	}
	return nil
}

// ringOf resolves a ring buffer map argument.
func (h *impl) ringOf(rc *vm.RunContext, mp uint64, name string) (*maps.RingBufMap, maps.Map, error) {
	m, err := h.mapOf(rc, mp, name)
	if m == nil {
		return nil, nil, err
	}
	rb, _ := m.(*maps.RingBufMap)
	return rb, m, nil
}

// ringbufOutput is bpf_ringbuf_output(ringbuf, data, size, flags).
func ringbufOutput(h *impl) vm.Helper {
	const name = "bpf_ringbuf_output"
	return func(rc *vm.RunContext, mp, data, size, flags, _ uint64) (uint64, error) {
		rb, m, err := h.ringOf(rc, mp, name)
		if rb == nil {
			if m != nil {
				return wrongMap(rc, name, m, eINVAL)
			}
			return ret(eINVAL), err
		}
		if err := rc.CheckArg(data, size, false); err != nil {
			return 0, argErr(name, "data", err)
		}
		return ret(rb.Output(vm.Bytes(data, int(size)), flags)), nil
	}
}

// ringbufReserve is bpf_ringbuf_reserve(ringbuf, size, flags): the address
// of size bytes to fill, or 0.
func ringbufReserve(h *impl) vm.Helper {
	const name = "bpf_ringbuf_reserve"
	return func(rc *vm.RunContext, mp, size, flags, _, _ uint64) (uint64, error) {
		rb, m, err := h.ringOf(rc, mp, name)
		if rb == nil {
			if m != nil {
				return wrongMap(rc, name, m, 0)
			}
			return 0, err
		}
		p := rb.Reserve(size, flags)
		if p == nil {
			return 0, nil
		}
		h.rings.add(rb)
		if run := heldRun(rc); run != nil {
			run.held.add(heldItem{addr: p, ring: rb})
		}
		return valueAddr(p), nil
	}
}

// ringbufCommit is bpf_ringbuf_submit and bpf_ringbuf_discard(data, flags).
func ringbufCommit(h *impl, name string, discard bool) vm.Helper {
	return func(rc *vm.RunContext, data, flags, _, _, _ uint64) (uint64, error) {
		rb := h.rings.owner(data)
		var r int64 = eINVAL
		if rb != nil {
			if discard {
				r = rb.Discard(vm.Pointer(data), flags)
			} else {
				r = rb.Submit(vm.Pointer(data), flags)
			}
		}
		if r == 0 {
			if run := heldRun(rc); run != nil {
				run.held.remove(vm.Pointer(data))
			}
		}
		if r != 0 && rc.Mode == vm.Checked {
			return 0, argErr(name, "data", ErrBadRecord)
		}
		return 0, nil
	}
}

// ringbufQuery is bpf_ringbuf_query(ringbuf, flags).
func ringbufQuery(h *impl) vm.Helper {
	const name = "bpf_ringbuf_query"
	return func(rc *vm.RunContext, mp, flags, _, _, _ uint64) (uint64, error) {
		rb, m, err := h.ringOf(rc, mp, name)
		if rb == nil {
			if m != nil {
				return wrongMap(rc, name, m, 0)
			}
			return 0, err
		}
		return rb.Query(flags), nil
	}
}

// perfEventOutput is bpf_perf_event_output(ctx, map, flags, data, size).
// For XDP and __sk_buff programs, the upper 32 bits of flags
// (BPF_F_CTXLEN_MASK) append that many bytes of the packet to the sample.
func perfEventOutput(h *impl) vm.Helper {
	const name = "bpf_perf_event_output"
	return func(rc *vm.RunContext, ctx, mp, flags, data, size uint64) (uint64, error) {
		m, err := h.mapOf(rc, mp, name)
		if m == nil {
			return ret(eINVAL), err
		}
		pm, ok := m.(*maps.PerfEventArrayMap)
		if !ok {
			return wrongMap(rc, name, m, eINVAL)
		}
		if err := rc.CheckArg(data, size, false); err != nil {
			return 0, argErr(name, "data", err)
		}
		var ctxData []byte
		if n := flags & maps.PerfCtxLenMask >> 32; n > 0 {
			run, ok := rc.Value.(*Run)
			if !ok || run == nil || (run.Program != linux.XDP && !isSKB(run.Program)) {
				return ret(eINVAL), nil
			}
			pkt, r := packetData(rc, run, ctx, name)
			if r != nil {
				return 0, r
			}
			if n > uint64(len(pkt)) {
				return ret(eFAULT), nil
			}
			ctxData = pkt[:n]
		}
		return ret(pm.Output(rc.Slot, flags, vm.Bytes(data, int(size)), ctxData)), nil
	}
}
