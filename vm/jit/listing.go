package jit

import "github.com/bpfhost/bpfhost/vm/jit/amd64"

// Block is the machine code of one eBPF slot, or of a routine the slots
// share, as Listing returns it (see amd64.Block).
type Block = amd64.Block

// ErrNotJIT is returned by Listing for executables of other engines.
var ErrNotJIT = amd64.ErrNotJIT

// Options configure an engine made with NewWithOptions (see
// amd64.Options): how to resolve map pointers so that map lookups need no
// helper call.
type Options = amd64.Options

// InlineMap describes a map for lookups without the helper (see
// amd64.InlineMap).
type InlineMap = amd64.InlineMap

// Kinds of InlineMap.
const (
	InlineNone        = amd64.InlineNone
	InlineArray       = amd64.InlineArray
	InlinePerCPUArray = amd64.InlinePerCPUArray
	InlineElem        = amd64.InlineElem
	InlineHash        = amd64.InlineHash
)

// HashTable is the memory of a hash map as the JIT reads it (see
// amd64.HashTable).
type HashTable = amd64.HashTable

// MaxInlineKey is the longest key of hash maps the JIT looks up in
// generated code (see amd64.MaxInlineKey).
const MaxInlineKey = amd64.MaxInlineKey
