package bpfhost

import (
	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/vm"
)

// host implements helpers.Host for one collection.
type host struct {
	printk func(string)
	// checked: the collection's programs run checked, and so must every
	// program they tail-call.
	checked bool
}

func (h *host) MapOf(ptr uint64) (maps.Map, bool) {
	mh, ok := lookupHandle(ptr)
	if !ok {
		return nil, false
	}
	return mh.m.m, true
}

func (h *host) HandlePtr(v any) uint64 {
	if mh, ok := v.(*mapHandle); ok {
		return mh.ptr()
	}
	return 0
}

func (h *host) TailTarget(v any) (vm.Executable, bool) {
	p, ok := v.(*Program)
	if !ok {
		return nil, false
	}
	b := p.tail.Load() // nil once Close began (Program.unreach)
	if b == nil {
		return nil, false
	}
	if (h.checked || p.coll.checked) && p.coll.host != h {
		// Checked runs reach only their own collection's memory, and a
		// trusted program of another collection would run unchecked
		// inside a checked run: tail calls into or out of checked
		// programs stay in one collection, other slots count as empty.
		return nil, false
	}
	return b.exe, true
}

func (h *host) Printk(line string) {
	if h.printk != nil {
		h.printk(line)
	}
}
