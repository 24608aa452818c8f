package platform

import (
	"fmt"
	"strings"
)

// MapType is a map type number in an ABI's numbering; in the Linux ABI it is
// enum bpf_map_type.
type MapType uint32

// String returns "map_type#N"; an ABI knows the name (ABI.MapTypeName).
func (t MapType) String() string { return fmt.Sprintf("map_type#%d", uint32(t)) }

// MapOps is a set of operations programs may perform on a map type, each
// through the helpers that implement it.
type MapOps uint32

// Map operations.
const (
	MapLookup           MapOps = 1 << iota // map_lookup_elem
	MapUpdate                              // map_update_elem
	MapDelete                              // map_delete_elem
	MapPush                                // map_push_elem
	MapPop                                 // map_pop_elem
	MapPeek                                // map_peek_elem
	MapLookupPercpu                        // map_lookup_percpu_elem
	MapForEach                             // for_each_map_elem
	MapTailCall                            // tail_call
	MapRedirect                            // redirect_map (and the sk/msg redirects)
	MapPerfOutput                          // perf_event_output and its relatives
	MapRingbuf                             // ringbuf_output/reserve/query
	MapStackID                             // get_stackid
	MapCgroupCheck                         // skb_under_cgroup, current_task_under_cgroup
	MapLocalStorage                        // get_local_storage
	MapObjStorage                          // sk/inode/task/cgrp_storage_get/delete
	MapSockUpdate                          // sock_map_update, sock_hash_update
	MapSelectReuseport                     // sk_select_reuseport
	MapUserRingbufDrain                    // user_ringbuf_drain
	MapTimer                               // timer_init takes the map of the timer
)

var mapOpNames = []string{
	"lookup", "update", "delete", "push", "pop", "peek", "lookup_percpu", "for_each",
	"tail_call", "redirect", "perf_output", "ringbuf", "stackid", "cgroup_check",
	"local_storage", "obj_storage", "sock_update", "select_reuseport", "user_ringbuf_drain", "timer",
}

// String lists the operations, e.g. "lookup|update|delete".
func (o MapOps) String() string {
	var parts []string
	for i, n := range mapOpNames {
		if o&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "|")
}

// LookupResult says what map_lookup_elem returns for a map type.
type LookupResult uint8

// Lookup results.
const (
	// LookupNotAllowed: programs cannot look elements up.
	LookupNotAllowed LookupResult = iota
	// LookupValue: a pointer to the value (value_size bytes) or NULL.
	LookupValue
	// LookupInnerMap: the inner map (a map pointer) or NULL.
	LookupInnerMap
	// LookupSocket: a referenced socket pointer or NULL (sockmap, sockhash).
	LookupSocket
	// LookupXDPSock: a pointer to struct bpf_xdp_sock or NULL (xskmap).
	LookupXDPSock
)

var lookupResultNames = [...]string{"not_allowed", "value", "inner_map", "socket", "xdp_sock"}

// String returns the result's name.
func (r LookupResult) String() string {
	if int(r) < len(lookupResultNames) {
		return lookupResultNames[r]
	}
	return fmt.Sprintf("lookup_result(%d)", uint8(r))
}

// MapTypeInfo describes a map type for the verifier and the loader.
type MapTypeInfo struct {
	Type MapType
	Name string // "hash", as libbpf and bpftool print it
	// Ops are the operations programs may perform.
	Ops MapOps
	// Lookup says what map_lookup_elem returns (LookupNotAllowed unless Ops
	// has MapLookup).
	Lookup LookupResult
	// KeySizes and ValueSizes list the sizes the map type accepts at
	// creation; nil means any positive size. []int{0} means the size must
	// be 0 (queue, stack and bloom filter keys, ring buffers).
	KeySizes   []int
	ValueSizes []int
	// PerCPU: each execution slot has its own copy of every value.
	PerCPU bool
	// LookupStruct describes what a LookupXDPSock result points to (the
	// fields a program may read); nil for other lookup results.
	LookupStruct *ContextDescriptor
	// Doc notes anything a caller needs to know.
	Doc string
}

// String returns the name and number, e.g. "hash#1".
func (m *MapTypeInfo) String() string { return fmt.Sprintf("%s#%d", m.Name, uint32(m.Type)) }

// KeySizeOK reports whether a map of this type may have keys of n bytes.
func (m *MapTypeInfo) KeySizeOK(n int) bool { return sizeOK(m.KeySizes, n) }

// ValueSizeOK reports whether a map of this type may have values of n bytes.
func (m *MapTypeInfo) ValueSizeOK(n int) bool { return sizeOK(m.ValueSizes, n) }

func sizeOK(allowed []int, n int) bool {
	if allowed == nil {
		return n > 0
	}
	for _, a := range allowed {
		if a == n {
			return true
		}
	}
	return false
}
