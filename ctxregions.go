package bpfhost

import (
	"sort"
	"sync"
	"unsafe"

	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/vm"
)

// A host context struct the program may write (__sk_buff, bpf_sock_addr,
// bpf_sock) also holds what the host relies on: the packet pointers, the
// socket pointer. The verifier lets a program store only to the fields the
// descriptor marks writable, but checked runs of unverified programs have
// no verifier: a context pointer kept in a map value reaches every byte of
// the struct. So a run's context is not one writable region: it is one
// writable region per run of adjacent writable number fields, at their host
// locations, followed by the whole struct read-only. A store is checked
// against the first region that holds all of it (vm.RunContext.Check), so
// it succeeds in a writable field and fails anywhere else, and no run can
// leave the host a pointer it chose. Trusted runs are unaffected: the
// verifier's proof is their check. See docs/decisions/0043.

// span is a byte range [off, end) of a host context struct.
type span struct{ off, end int }

// writableSpans caches ctxWritable per descriptor.
var writableSpans sync.Map // *platform.ContextDescriptor -> []span

// ctxWritable returns the host byte ranges of the number fields d lets
// programs write, sorted, with adjacent ranges merged.
func ctxWritable(d *platform.ContextDescriptor) []span {
	if v, ok := writableSpans.Load(d); ok {
		return v.([]span)
	}
	var out []span
	if d != nil && d.Host != nil {
		for _, f := range d.Fields {
			if f.Access&platform.Write == 0 || f.Kind != platform.FieldScalar {
				continue
			}
			if hf, ok := d.Host.Field(f.Name); ok && hf.Size > 0 {
				out = append(out, span{hf.Offset, hf.Offset + hf.Size})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].off < out[j].off })
	merged := out[:0]
	for _, s := range out {
		if n := len(merged); n > 0 && s.off <= merged[n-1].end {
			merged[n-1].end = max(merged[n-1].end, s.end)
			continue
		}
		merged = append(merged, s)
	}
	writableSpans.Store(d, merged)
	return merged
}

// contextRegions appends to dst the regions of a run's host context struct
// at p (size bytes, kept alive by ref) described by d: its writable fields,
// then the whole struct read-only.
func contextRegions(dst []vm.Region, d *platform.ContextDescriptor, name string, ref any, p unsafe.Pointer, size uintptr) []vm.Region {
	for _, s := range ctxWritable(d) {
		if uintptr(s.end) > size {
			continue // a layout larger than the struct: never writable
		}
		dst = append(dst, vm.Region{Start: uintptr(p) + uintptr(s.off), Size: uintptr(s.end - s.off), Writable: true, Name: name, Memory: ref})
	}
	return append(dst, hostRegion(name, ref, p, size, false))
}
