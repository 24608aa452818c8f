package helpers

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

func init() {
	register(linux.FnMapLookupElem, mapLookupElem)
	register(linux.FnMapUpdateElem, mapUpdateElem)
	register(linux.FnMapDeleteElem, mapDeleteElem)
	register(linux.FnMapPushElem, mapPushElem)
	register(linux.FnMapPopElem, mapPopElem)
	register(linux.FnMapPeekElem, mapPeekElem)
	register(linux.FnMapLookupPercpuElem, mapLookupPercpuElem)
	register(linux.FnSpinLock, spinLock)
	register(linux.FnSpinUnlock, spinUnlock)
}

// sizeCache remembers the sizes and type of handle maps (prog_array and
// the maps of maps): their Spec copies the inner map template, which would
// allocate on every call.
type sizeCache struct{ m sync.Map } // maps.Map -> mapInfo

type mapInfo struct {
	key, value uint64
	typ        maps.Type
}

// info returns a map's key and value size and type without allocating.
func (c *sizeCache) info(m maps.Map) mapInfo {
	switch m.(type) {
	case *maps.HandleArrayMap, *maps.HandleHashMap:
		if v, ok := c.m.Load(m); ok {
			return v.(mapInfo)
		}
		s := m.Spec()
		i := mapInfo{uint64(s.KeySize), uint64(s.ValueSize), s.Type}
		c.m.Store(m, i)
		return i
	}
	s := m.Spec()
	return mapInfo{uint64(s.KeySize), uint64(s.ValueSize), s.Type}
}

// sizes returns a map's key and value size.
func (c *sizeCache) sizes(m maps.Map) (key, value uint64) {
	i := c.info(m)
	return i.key, i.value
}

// elemOf returns m as an ElemMap, testing the common concrete types first:
// a type switch on them compares a pointer, where an assertion to an
// interface looks up an itab.
func elemOf(m maps.Map) (maps.ElemMap, bool) {
	switch m := m.(type) {
	case *maps.ArrayMap:
		return m, true
	case *maps.HashMap:
		return m, true
	}
	em, ok := m.(maps.ElemMap)
	return em, ok
}

// key checks and returns a key argument.
func (h *impl) key(rc *vm.RunContext, m maps.Map, addr uint64, name string) ([]byte, uint64, error) {
	ks, vs := h.sizes.sizes(m)
	if err := rc.CheckArg(addr, ks, false); err != nil {
		return nil, 0, argErr(name, "key", err)
	}
	return vm.Bytes(addr, int(ks)), vs, nil
}

// mapLookupElem is bpf_map_lookup_elem(map, key): the value's address (of
// the run's slot for per-CPU maps), the inner map for maps of maps, or 0.
func mapLookupElem(h *impl) vm.Helper {
	const name = "bpf_map_lookup_elem"
	return func(rc *vm.RunContext, mp, key, _, _, _ uint64) (uint64, error) {
		m, err := h.mapOf(rc, mp, name)
		if m == nil {
			return 0, err
		}
		if a, ok := m.(*maps.ArrayMap); ok { // the hottest case: keys are u32
			if err := rc.CheckArg(key, 4, false); err != nil {
				return 0, argErr(name, "key", err)
			}
			return valueAddr(a.LookupPtr(vm.Bytes(key, 4), rc.Slot)), nil
		}
		if em, ok := elemOf(m); ok {
			k, _, err := h.key(rc, m, key, name)
			if err != nil {
				return 0, err
			}
			return valueAddr(em.LookupPtr(k, rc.Slot)), nil
		}
		if hm, ok := m.(maps.HandleMap); ok && h.sizes.info(m).typ != maps.ProgramArray {
			k, _, err := h.key(rc, m, key, name)
			if err != nil {
				return 0, err
			}
			if inner := hm.Handle(k); inner != nil {
				return h.host.HandlePtr(inner), nil
			}
			return 0, nil
		}
		// Program arrays, queues, ring buffers and the like have no lookup: NULL.
		return wrongMap(rc, name, m, 0)
	}
}

// elemArgs resolves the map and key arguments of the helpers that need an
// ElemMap (update, delete). A nil map means the helper returns r0, err.
func (h *impl) elemArgs(rc *vm.RunContext, mp, key uint64, name string) (em maps.ElemMap, k []byte, valueSize, r0 uint64, err error) {
	m, err := h.mapOf(rc, mp, name)
	if m == nil {
		return nil, nil, 0, ret(eINVAL), err
	}
	em, ok := elemOf(m)
	if !ok {
		r0, err = wrongMap(rc, name, m, eINVAL)
		return nil, nil, 0, r0, err
	}
	k, valueSize, err = h.key(rc, m, key, name)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	return em, k, valueSize, 0, nil
}

// mapUpdateElem is bpf_map_update_elem(map, key, value, flags).
func mapUpdateElem(h *impl) vm.Helper {
	const name = "bpf_map_update_elem"
	return func(rc *vm.RunContext, mp, key, value, flags, _ uint64) (uint64, error) {
		em, k, vs, r0, err := h.elemArgs(rc, mp, key, name)
		if em == nil {
			return r0, err
		}
		if err := rc.CheckArg(value, vs, false); err != nil {
			return 0, argErr(name, "value", err)
		}
		return chargeBytes(rc, ret(em.UpdateElem(k, vm.Bytes(value, int(vs)), flags, rc.Slot)), vs)
	}
}

// mapDeleteElem is bpf_map_delete_elem(map, key).
func mapDeleteElem(h *impl) vm.Helper {
	const name = "bpf_map_delete_elem"
	return func(rc *vm.RunContext, mp, key, _, _, _ uint64) (uint64, error) {
		em, k, _, r0, err := h.elemArgs(rc, mp, key, name)
		if em == nil {
			return r0, err
		}
		return ret(em.DeleteElem(k)), nil
	}
}

// queueOp builds push, pop and peek: value is read (push, bloom peek) or
// written (pop, queue and stack peek).
func queueOp(h *impl, name string, op func(q maps.QueueMap, v []byte, flags uint64) int64, writes bool) vm.Helper {
	return func(rc *vm.RunContext, mp, value, flags, _, _ uint64) (uint64, error) {
		m, err := h.mapOf(rc, mp, name)
		if m == nil {
			return ret(eINVAL), err
		}
		q, ok := m.(maps.QueueMap)
		if !ok {
			return wrongMap(rc, name, m, eINVAL)
		}
		_, vs := h.sizes.sizes(m)
		// A bloom filter's peek tests the value it is given.
		write := writes && m.Spec().Type != maps.BloomFilter
		if err := rc.CheckArg(value, vs, write); err != nil {
			return 0, argErr(name, "value", err)
		}
		v := vm.Bytes(value, int(vs))
		if write {
			// The verifier marks the buffer written whatever the result:
			// an empty queue leaves it zeroed, as Linux does.
			clear(v)
		}
		return chargeBytes(rc, ret(op(q, v, flags)), vs)
	}
}

// mapPushElem is bpf_map_push_elem(map, value, flags).
func mapPushElem(h *impl) vm.Helper {
	return queueOp(h, "bpf_map_push_elem", func(q maps.QueueMap, v []byte, flags uint64) int64 {
		return q.PushElem(v, flags)
	}, false)
}

// mapPopElem is bpf_map_pop_elem(map, value).
func mapPopElem(h *impl) vm.Helper {
	return queueOp(h, "bpf_map_pop_elem", func(q maps.QueueMap, v []byte, _ uint64) int64 {
		return q.PopElem(v)
	}, true)
}

// mapPeekElem is bpf_map_peek_elem(map, value).
func mapPeekElem(h *impl) vm.Helper {
	return queueOp(h, "bpf_map_peek_elem", func(q maps.QueueMap, v []byte, _ uint64) int64 {
		return q.PeekElem(v)
	}, true)
}

// mapLookupPercpuElem is bpf_map_lookup_percpu_elem(map, key, cpu): the
// value of key on another slot, or 0.
func mapLookupPercpuElem(h *impl) vm.Helper {
	const name = "bpf_map_lookup_percpu_elem"
	return func(rc *vm.RunContext, mp, key, cpu, _, _ uint64) (uint64, error) {
		m, err := h.mapOf(rc, mp, name)
		if m == nil {
			return 0, err
		}
		pm, ok := m.(maps.PerCPUMap)
		if !ok || !m.Spec().Type.PerCPU() {
			return wrongMap(rc, name, m, 0)
		}
		k, _, err := h.key(rc, m, key, name)
		if err != nil {
			return 0, err
		}
		return uint64(uintptr(pm.LookupPercpuElem(k, int(uint32(cpu))))), nil
	}
}

// spinLock is bpf_spin_lock(lock).
func spinLock(*impl) vm.Helper {
	return func(rc *vm.RunContext, lock, _, _, _, _ uint64) (uint64, error) {
		if err := checkLock(rc, lock, "bpf_spin_lock"); err != nil {
			return 0, err
		}
		if err := takeLock(rc, vm.Pointer(lock)); err != nil {
			return 0, fmt.Errorf("bpf_spin_lock: %w", err)
		}
		if run := heldRun(rc); run != nil {
			run.held.add(heldItem{addr: vm.Pointer(lock)})
		}
		return 0, nil
	}
}

// spinUnlock is bpf_spin_unlock(lock).
func spinUnlock(*impl) vm.Helper {
	return func(rc *vm.RunContext, lock, _, _, _, _ uint64) (uint64, error) {
		if err := checkLock(rc, lock, "bpf_spin_unlock"); err != nil {
			return 0, err
		}
		maps.SpinUnlock(vm.Pointer(lock))
		if run := heldRun(rc); run != nil {
			run.held.remove(vm.Pointer(lock))
		}
		return 0, nil
	}
}

func checkLock(rc *vm.RunContext, lock uint64, name string) error {
	if err := rc.CheckArg(lock, 4, true); err != nil {
		return argErr(name, "lock", err)
	}
	if rc.Mode == vm.Checked && lock%4 != 0 {
		return argErr(name, "lock", ErrMisaligned)
	}
	return nil
}

// valueAddr is the register value of a map value pointer.
func valueAddr(p unsafe.Pointer) uint64 { return uint64(uintptr(p)) }
