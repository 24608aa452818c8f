package object

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// Limits on raw BTF, checked before cilium/ebpf's BTF parser sees it. The
// parser inflates types recursively, one Go stack frame (about 2 KiB) per
// type on the path from the type it was asked for, so a long chain of
// references (a 300,000-deep pointer chain is 300 KB compressed) overflows
// the Go stack, a fatal error no recover catches. The checks here walk the
// type graph without recursion.
const (
	// maxBTFSize is Linux's BTF_MAX_SIZE: the most BTF bpf(BPF_BTF_LOAD)
	// accepts. vmlinux BTF is about a third of it.
	maxBTFSize = 16 << 20
	// maxBTFTypes is Linux's BTF_MAX_TYPE.
	maxBTFTypes = 0xfffff
	// maxBTFDepth bounds the longest chain of type references the parser
	// may follow, each type of a reference cycle counted once: 16384
	// frames of the parser take about 32 MiB of stack. Compilers emit
	// chains of a few dozen types; the cycles of structs that point at
	// each other make vmlinux BTF (Linux 6.x, 126k types) need 3717.
	// Linux itself resolves BTF without recursion, keeping at most
	// MAX_RESOLVE_DEPTH = 32 unresolved types on its stack.
	maxBTFDepth = 16384
	// maxExtNameBytes bounds the section names and CO-RE accessor strings
	// of .BTF.ext together: the parser splits every accessor ("0:1:2")
	// into a slice of integers. Objects have a few hundred of them.
	maxExtNameBytes = 4 << 20
)

// BTF kinds (include/uapi/linux/btf.h).
const (
	btfKindInt = iota + 1
	btfKindPtr
	btfKindArray
	btfKindStruct
	btfKindUnion
	btfKindEnum
	btfKindFwd
	btfKindTypedef
	btfKindVolatile
	btfKindConst
	btfKindRestrict
	btfKindFunc
	btfKindFuncProto
	btfKindVar
	btfKindDatasec
	btfKindFloat
	btfKindDeclTag
	btfKindTypeTag
	btfKindEnum64
)

// btfGraph is the reference graph of raw BTF types in compressed sparse row
// form: the types type i refers to are refs[start[i]:start[i+1]]. Type 0 is
// void; references to void or to ids past the last type are left out.
type btfGraph struct {
	start []int32
	refs  []int32
	// names are the string offsets of every name the parser looks up.
	names []uint32
	// offs is where each type's record starts in the type section (type 0
	// has none).
	offs []int32
}

// checkRawBTF checks raw BTF (a .BTF section or a file like
// /sys/kernel/btf/vmlinux) against the limits above: its size, its number
// of types, well-formed type records, and the depth of its reference graph.
// It returns nil for input it cannot recognise as BTF at all, leaving the
// error to the parser.
func checkRawBTF(raw []byte) error {
	if len(raw) > maxBTFSize {
		return fmt.Errorf("%w: BTF of %d bytes, limit %d", ErrInvalidObject, len(raw), maxBTFSize)
	}
	if len(raw) < 24 {
		return nil
	}
	var bo binary.ByteOrder
	switch {
	case binary.LittleEndian.Uint16(raw) == 0xeb9f:
		bo = binary.LittleEndian
	case binary.BigEndian.Uint16(raw) == 0xeb9f:
		bo = binary.BigEndian
	default:
		return nil
	}
	hdrLen := uint64(bo.Uint32(raw[4:]))
	typeOff, typeLen := uint64(bo.Uint32(raw[8:])), uint64(bo.Uint32(raw[12:]))
	if hdrLen+typeOff+typeLen > uint64(len(raw)) {
		return fmt.Errorf("%w: BTF type section [%d, %d) outside the %d bytes of BTF", ErrInvalidObject,
			hdrLen+typeOff, hdrLen+typeOff+typeLen, len(raw))
	}
	g, err := parseBTFGraph(raw[hdrLen+typeOff:hdrLen+typeOff+typeLen], bo)
	if err != nil {
		return err
	}
	strs, err := btfStrings(raw, bo)
	if err != nil {
		return err
	}
	if err := checkNames(strs, g.names, maxNameBytes); err != nil {
		return fmt.Errorf("%w: BTF type names: %w", ErrInvalidObject, err)
	}
	if depth, at := g.maxDepth(); depth > maxBTFDepth {
		return fmt.Errorf("%w: BTF type %d starts a chain of %d type references, limit %d", ErrInvalidObject, at, depth, maxBTFDepth)
	}
	return nil
}

// btfStrings returns the string section of raw BTF whose header
// checkRawBTF has read.
func btfStrings(raw []byte, bo binary.ByteOrder) ([]byte, error) {
	hdrLen := uint64(bo.Uint32(raw[4:]))
	strOff, strLen := uint64(bo.Uint32(raw[16:])), uint64(bo.Uint32(raw[20:]))
	if hdrLen+strOff+strLen > uint64(len(raw)) {
		return nil, fmt.Errorf("%w: BTF string section [%d, %d) outside the %d bytes of BTF", ErrInvalidObject,
			hdrLen+strOff, hdrLen+strOff+strLen, len(raw))
	}
	return raw[hdrLen+strOff : hdrLen+strOff+strLen], nil
}

// checkNames bounds the bytes the BTF parser copies out of the string
// table: it copies the string at every offset it looks up, so many
// references to one long string would cost their product.
func checkNames(strs []byte, offs []uint32, limit int) error {
	in := offs[:0]
	for _, o := range offs {
		if int(o) < len(strs) { // the parser rejects the others
			in = append(in, o)
		}
	}
	_, err := stringLengthsWithin(strs, in, limit)
	return err
}

// checkBTFExt bounds the strings that the records of .BTF.ext (section
// names, CO-RE relocations) make the parser copy out of the string table
// strs of the object's .BTF.
func checkBTFExt(ext, strs []byte) error {
	if len(ext) < 24 {
		return nil
	}
	var bo binary.ByteOrder
	switch {
	case binary.LittleEndian.Uint16(ext) == 0xeb9f:
		bo = binary.LittleEndian
	case binary.BigEndian.Uint16(ext) == 0xeb9f:
		bo = binary.BigEndian
	default:
		return nil
	}
	hdrLen := uint64(bo.Uint32(ext[4:]))
	// (offset, length) of func_info, line_info and, in newer headers,
	// core_relo, each relative to the end of the header.
	parts := [][2]uint64{{uint64(bo.Uint32(ext[8:])), uint64(bo.Uint32(ext[12:]))},
		{uint64(bo.Uint32(ext[16:])), uint64(bo.Uint32(ext[20:]))}}
	if hdrLen >= 32 && len(ext) >= 32 {
		parts = append(parts, [2]uint64{uint64(bo.Uint32(ext[24:])), uint64(bo.Uint32(ext[28:]))})
	}
	var names []uint32
	for kind, p := range parts {
		if p[1] == 0 || hdrLen+p[0]+p[1] > uint64(len(ext)) || p[1] < 4 {
			continue // the parser reports what is wrong with it
		}
		b := ext[hdrLen+p[0] : hdrLen+p[0]+p[1]]
		recSize := uint64(bo.Uint32(b))
		if recSize < 4 {
			continue
		}
		for off := uint64(4); off+8 <= uint64(len(b)); {
			names = append(names, bo.Uint32(b[off:]))
			num := uint64(bo.Uint32(b[off+4:]))
			off += 8
			i := uint64(0)
			for ; i < num && off+recSize <= uint64(len(b)); i++ {
				// Line information strings are looked up once per offset, so
				// they cost at most the string table; accessor strings are
				// copied for every record.
				if kind == 2 && recSize >= 12 {
					names = append(names, bo.Uint32(b[off+8:]))
				}
				off += recSize
			}
			if i < num {
				break // truncated: the parser rejects it
			}
		}
	}
	if err := checkNames(strs, names, maxExtNameBytes); err != nil {
		return fmt.Errorf("%w: .BTF.ext strings: %w", ErrInvalidObject, err)
	}
	return nil
}

// parseBTFGraph reads the type records of a BTF type section and collects
// the references between them.
func parseBTFGraph(types []byte, bo binary.ByteOrder) (*btfGraph, error) {
	g := &btfGraph{start: []int32{0, 0}, offs: []int32{-1}} // type 0 (void) refers to nothing
	n := len(types)
	var tags [][2]int32 // (tagged type, tag)
	for off := 0; off < n; {
		id := len(g.start) - 1
		if id > maxBTFTypes {
			return nil, fmt.Errorf("%w: more than %d BTF types", ErrInvalidObject, maxBTFTypes)
		}
		if n-off < 12 {
			return nil, fmt.Errorf("%w: BTF type %d: truncated record", ErrInvalidObject, id)
		}
		g.offs = append(g.offs, int32(off))
		info := bo.Uint32(types[off+4:])
		vlen, kind := int(info&0xffff), int(info>>24&0x1f)
		sizeType := bo.Uint32(types[off+8:])
		if nameOff := bo.Uint32(types[off:]); nameOff != 0 {
			g.names = append(g.names, nameOff)
		}
		off += 12
		var extra, member int
		switch kind {
		case btfKindInt, btfKindVar, btfKindDeclTag:
			extra = 4
		case btfKindArray:
			extra = 12
		case btfKindStruct, btfKindUnion, btfKindDatasec, btfKindEnum64:
			extra, member = 12*vlen, 12
		case btfKindEnum, btfKindFuncProto:
			extra, member = 8*vlen, 8
		case btfKindPtr, btfKindFwd, btfKindTypedef, btfKindVolatile, btfKindConst, btfKindRestrict,
			btfKindFunc, btfKindFloat, btfKindTypeTag:
		default:
			return nil, fmt.Errorf("%w: BTF type %d: unknown kind %d", ErrInvalidObject, id, kind)
		}
		if n-off < extra {
			return nil, fmt.Errorf("%w: BTF type %d: truncated record", ErrInvalidObject, id)
		}
		data := types[off : off+extra]
		off += extra
		if kind != btfKindDatasec { // the others start their members with a name
			for i := 0; i < len(data) && member > 0; i += member {
				g.names = append(g.names, bo.Uint32(data[i:]))
			}
		}
		switch kind {
		case btfKindDeclTag:
			g.refs = append(g.refs, int32(min(sizeType, maxBTFTypes+1)))
			tags = append(tags, [2]int32{int32(min(sizeType, maxBTFTypes+1)), int32(id)})
		case btfKindPtr, btfKindTypedef, btfKindVolatile, btfKindConst, btfKindRestrict,
			btfKindFunc, btfKindVar, btfKindTypeTag:
			g.refs = append(g.refs, int32(min(sizeType, maxBTFTypes+1)))
		case btfKindArray:
			g.refs = append(g.refs, int32(min(bo.Uint32(data), maxBTFTypes+1)), int32(min(bo.Uint32(data[4:]), maxBTFTypes+1)))
		case btfKindStruct, btfKindUnion:
			for i := 0; i < vlen; i++ {
				g.refs = append(g.refs, int32(min(bo.Uint32(data[i*member+4:]), maxBTFTypes+1)))
			}
		case btfKindDatasec:
			for i := 0; i < vlen; i++ {
				g.refs = append(g.refs, int32(min(bo.Uint32(data[i*member:]), maxBTFTypes+1)))
			}
		case btfKindFuncProto:
			g.refs = append(g.refs, int32(min(sizeType, maxBTFTypes+1)))
			for i := 0; i < vlen; i++ {
				g.refs = append(g.refs, int32(min(bo.Uint32(data[i*member+4:]), maxBTFTypes+1)))
			}
		}
		g.start = append(g.start, int32(len(g.refs)))
	}
	g.addDeclTagEdges(tags)
	return g, nil
}

// addDeclTagEdges adds, for every decl tag, an edge from the tagged type
// to the tag: the parser inflates a type's tags right after the type.
func (g *btfGraph) addDeclTagEdges(tags [][2]int32) {
	if len(tags) == 0 {
		return
	}
	n := len(g.start) - 1
	extra := make([]int32, n+1)
	for _, t := range tags {
		if int(t[0]) < n {
			extra[t[0]+1]++
		}
	}
	for i := 1; i <= n; i++ {
		extra[i] += extra[i-1]
	}
	refs := make([]int32, 0, len(g.refs)+len(tags))
	start := make([]int32, n+1)
	for v := 0; v < n; v++ {
		start[v] = int32(len(refs))
		refs = append(refs, g.refs[g.start[v]:g.start[v+1]]...)
		refs = append(refs, make([]int32, extra[v+1]-extra[v])...)
	}
	start[n] = int32(len(refs))
	fill := slices.Clone(extra)
	for _, t := range tags {
		if v := t[0]; int(v) < n {
			refs[start[v+1]-(extra[v+1]-fill[v])] = t[1]
			fill[v]++
		}
	}
	g.start, g.refs = start, refs
}

// maxDepth returns an upper bound on the number of nested calls a
// depth-first walk of the graph that stops at types it has already seen
// can make from any type: the heaviest path through the graph of strongly
// connected components, each weighing its number of types. It also returns
// a type where that path starts. Tarjan's algorithm runs with an explicit
// stack.
func (g *btfGraph) maxDepth() (int, int) {
	n := len(g.start) - 1
	const unvisited = -1
	index := make([]int32, n)
	low := make([]int32, n)
	comp := make([]int32, n) // component of a finished type, -1 while on the stack
	for i := range index {
		index[i] = unvisited
	}
	var (
		compDepth []int // heaviest path from each component
		stack     []int32
		next      int32
		best, at  int
	)
	type frame struct{ v, edge int32 }
	var calls []frame
	for root := 0; root < n; root++ {
		if index[root] != unvisited {
			continue
		}
		calls = append(calls, frame{int32(root), g.start[root]})
		index[root], low[root] = next, next
		next++
		comp[root] = -1
		stack = append(stack, int32(root))
		for len(calls) > 0 {
			f := &calls[len(calls)-1]
			v := f.v
			if f.edge < g.start[v+1] {
				w := g.refs[f.edge]
				f.edge++
				if int(w) >= n {
					continue
				}
				if index[w] == unvisited {
					index[w], low[w] = next, next
					next++
					comp[w] = -1
					stack = append(stack, w)
					calls = append(calls, frame{w, g.start[w]})
				} else if comp[w] == -1 && index[w] < low[v] {
					low[v] = index[w]
				}
				continue
			}
			calls = calls[:len(calls)-1]
			if len(calls) > 0 {
				if p := calls[len(calls)-1].v; low[v] < low[p] {
					low[p] = low[v]
				}
			}
			if low[v] != index[v] {
				continue
			}
			// v roots a component: pop it, then weigh it by its size plus
			// the heaviest component it refers to (all finished before it).
			c := int32(len(compDepth))
			i := len(stack) - 1
			for stack[i] != v {
				i--
			}
			members := stack[i:]
			stack = stack[:i]
			for _, u := range members {
				comp[u] = c
			}
			heaviest := 0
			for _, u := range members {
				for _, w := range g.refs[g.start[u]:g.start[u+1]] {
					if int(w) < n && comp[w] != c && compDepth[comp[w]] > heaviest {
						heaviest = compDepth[comp[w]]
					}
				}
			}
			d := len(members) + heaviest
			compDepth = append(compDepth, d)
			if d > best {
				best, at = d, int(v)
			}
		}
	}
	return best, at
}
