package bpfhost

import (
	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/vm/jit"
)

// inlineMap tells the JIT which map a constant map pointer names, so that it
// can look array and hash map values up in machine code and call other
// maps directly instead of through the helper (vm/jit Options.Maps).
func inlineMap(ptr uint64) (jit.InlineMap, bool) {
	h, ok := lookupHandle(ptr)
	if !ok {
		return jit.InlineMap{}, false
	}
	m := h.m
	switch mm := m.m.(type) {
	case *maps.ArrayMap:
		kind := jit.InlineArray
		if m.spec.Type == maps.PerCPUArray {
			kind = jit.InlinePerCPUArray
		}
		return jit.InlineMap{Kind: kind, Values: mm.ValueMemory(), KeySize: m.spec.KeySize,
			Stride: (m.spec.ValueSize + 7) &^ 7, MaxEntries: m.spec.MaxEntries, Slots: mm.Slots(), Elem: mm}, true
	case *maps.HashMap:
		d := mm.Inline()
		return jit.InlineMap{Kind: jit.InlineHash, Values: mm.ValueMemory(), KeySize: d.KeySize, Slots: d.Slots, Elem: mm,
			Hash: jit.HashTable{
				Heads: uint64(d.Heads), Mask: d.Mask, Elems: uint64(d.Elems), Stride: d.Stride, N: d.N,
				Seed: d.Seed, Mult: d.Mult,
				Stripes: uint64(d.Stripes), StripeSize: d.StripeSize, StripeMask: d.StripeMask, SeqOffset: d.SeqOffset,
				Values: uint64(d.Values), ValueStride: d.ValueStride, SlotStride: d.SlotStride,
				PerCPU: d.PerCPU, LRU: d.LRU, Refs: uint64(d.Refs),
			}}, true
	case maps.ElemMap:
		return jit.InlineMap{Kind: jit.InlineElem, Values: mm.ValueMemory(), KeySize: m.spec.KeySize, Elem: mm}, true
	}
	return jit.InlineMap{}, false
}
