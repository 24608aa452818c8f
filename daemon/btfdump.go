package daemon

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"github.com/bpfhost/bpfhost"
)

// Values as bpftool prints them for maps with BTF ("formatted" in its JSON,
// and the whole output of "map dump" and "lookup" for people): the key and
// value bytes read through the types the object's BTF gives the map, as
// bpftool's btf_dumper does. The object's BTF is read with cilium/ebpf's
// parser (which package object uses too: one reading of BTF in the project;
// decision 0039); the formatting is bpftool's.

// mapTypes are the BTF types of a map's key and value; Key is nil for a
// map whose key has none (a global data section's).
type mapTypes struct {
	Key, Value btf.Type
}

// objectMapTypes returns the key and value types of the object's maps, by
// name; maps without BTF value types are left out, and so is everything of
// an object whose BTF cannot be read (its maps then print as bytes).
func objectMapTypes(object []byte) map[string]mapTypes {
	if len(object) == 0 {
		return nil
	}
	cs, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(object))
	if err != nil {
		return nil
	}
	out := map[string]mapTypes{}
	for name, ms := range cs.Maps {
		if ms.Value == nil {
			continue
		}
		if _, void := ms.Value.(*btf.Void); void {
			continue
		}
		mt := mapTypes{Key: ms.Key, Value: ms.Value}
		if _, void := mt.Key.(*btf.Void); void {
			mt.Key = nil
		}
		out[name] = mt
	}
	return out
}

// formattable reports whether Linux keeps a map's BTF key and value types,
// so that bpftool formats its entries (program arrays too: their values,
// the programs' IDs, print as the value type says); not maps of maps,
// devmaps, cpumaps, queues and others that libbpf creates without them.
func formattable(t bpfhost.MapType) bool {
	switch t {
	case bpfhost.MapHash, bpfhost.MapArray, bpfhost.MapPerCPUHash, bpfhost.MapPerCPUArray,
		bpfhost.MapLRUHash, bpfhost.MapLRUPerCPUHash, bpfhost.MapLPMTrie, bpfhost.MapProgArray:
		return true
	}
	return false
}

// formatEntry is bpftool's do_dump_btf: {"key": K, "value": V}, or with
// per-CPU values {"key": K, "values": [{"cpu": 0, "value": V}, ...]},
// where slots > 0 is the number of per-CPU values in value. plain selects
// bpftool's output for people (non-printable chars and bit fields as bare
// 0x numbers, pointers as %p) over its JSON.
func formatEntry(mt mapTypes, key, value []byte, slots int, plain bool) (json.RawMessage, error) {
	w := &btfWriter{plain: plain}
	w.buf.WriteByte('{')
	if mt.Key != nil {
		w.name("key")
		if err := w.value(mt.Key, key, 0); err != nil {
			return nil, err
		}
		w.buf.WriteByte(',')
	}
	if slots == 0 {
		w.name("value")
		if err := w.value(mt.Value, value, 0); err != nil {
			return nil, err
		}
	} else {
		size, err := btf.Sizeof(mt.Value)
		if err != nil {
			return nil, err
		}
		stride := (size + 7) &^ 7
		w.name("values")
		w.buf.WriteByte('[')
		for i := 0; i < slots && (i+1)*stride <= len(value); i++ {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			fmt.Fprintf(&w.buf, `{"cpu":%d,`, i)
			w.name("value")
			if err := w.value(mt.Value, value[i*stride:i*stride+size], 0); err != nil {
				return nil, err
			}
			w.buf.WriteByte('}')
		}
		w.buf.WriteByte(']')
	}
	w.buf.WriteByte('}')
	return json.RawMessage(w.buf.Bytes()), nil
}

// btfWriter writes compact JSON for typed bytes; the CLI lays it out as
// bpftool does.
type btfWriter struct {
	buf   bytes.Buffer
	plain bool
}

// maxDepth bounds nested types (BTF may be cyclic through pointers, which
// are not followed, but a hostile object could nest deeply), and
// maxFormatted the document of one entry (an array of a billion empty
// structs is a few bytes of BTF).
const (
	maxDepth     = 64
	maxFormatted = 1 << 20
)

func (w *btfWriter) name(n string) {
	b, _ := json.Marshal(n)
	w.buf.Write(b)
	w.buf.WriteByte(':')
}

func (w *btfWriter) str(s string) {
	b, _ := json.Marshal(s)
	w.buf.Write(b)
}

// raw writes what bpftool prints bare in its output for people (0x1f,
// (nil): not JSON) and as a string in its JSON. For people it is a string
// that starts with a NUL character (api.Entry.Formatted), so that the
// document stays JSON; no other string of it can hold a NUL.
func (w *btfWriter) raw(s string) {
	if w.plain {
		s = "\x00" + s
	}
	w.str(s)
}

// value writes data (at least t's size) as t.
func (w *btfWriter) value(t btf.Type, data []byte, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("BTF types nest deeper than %d", maxDepth)
	}
	if w.buf.Len() > maxFormatted {
		return fmt.Errorf("formatted entry longer than %d bytes", maxFormatted)
	}
	t = btf.UnderlyingType(t) // typedefs and qualifiers
	size, err := btf.Sizeof(t)
	if err != nil {
		return err
	}
	if size > len(data) {
		return fmt.Errorf("BTF type of %d bytes over %d bytes of data", size, len(data))
	}
	switch t := t.(type) {
	case *btf.Int:
		w.int(t, data[:size])
	case *btf.Enum:
		v := readUint(data[:size])
		for _, e := range t.Values {
			if e.Value == v {
				w.str(e.Name)
				return nil
			}
		}
		if t.Signed {
			w.buf.WriteString(strconv.FormatInt(signExtend(v, size), 10))
		} else {
			w.buf.WriteString(strconv.FormatUint(v, 10))
		}
	case *btf.Pointer:
		v := readUint(data[:size])
		if w.plain {
			if v == 0 {
				w.raw("(nil)") // glibc's %p
			} else {
				w.raw(fmt.Sprintf("0x%x", v))
			}
		} else {
			w.buf.WriteString(strconv.FormatUint(v, 10))
		}
	case *btf.Float:
		var f float64
		switch size {
		case 4:
			f = float64(math.Float32frombits(uint32(readUint(data[:4]))))
		case 8:
			f = math.Float64frombits(readUint(data[:8]))
		default:
			w.raw("(unsupported float)")
			return nil
		}
		w.buf.WriteString(strconv.FormatFloat(f, 'f', -1, 64))
	case *btf.Array:
		return w.array(t, data, depth)
	case *btf.Struct:
		return w.members(t.Members, data, depth)
	case *btf.Union:
		return w.members(t.Members, data, depth)
	case *btf.Datasec:
		w.buf.WriteByte('{')
		w.name(t.Name)
		w.buf.WriteByte('[')
		for i, vs := range t.Vars {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			v, ok := vs.Type.(*btf.Var)
			if !ok || int(vs.Offset) > len(data) {
				w.raw("(unsupported)")
				continue
			}
			w.buf.WriteByte('{')
			w.name(v.Name)
			if err := w.value(v.Type, data[vs.Offset:], depth+1); err != nil {
				return err
			}
			w.buf.WriteByte('}')
		}
		w.buf.WriteString("]}")
	default:
		w.raw(fmt.Sprintf("(unsupported kind %T)", t))
	}
	return nil
}

// int writes an integer as bpftool's btf_dumper_int does.
func (w *btfWriter) int(t *btf.Int, data []byte) {
	switch {
	case t.Encoding == btf.Bool:
		w.buf.WriteString(strconv.FormatBool(readUint(data) != 0))
	case t.Encoding == btf.Char && len(data) == 1:
		c := data[0]
		switch {
		case c >= 0x20 && c < 0x7f:
			w.str(string(rune(c)))
		case w.plain:
			w.raw(fmt.Sprintf("0x%x", c))
		default:
			fmt.Fprintf(&w.buf, `"\u00%02x"`, c)
		}
	case len(data) == 16:
		lo, hi := binary.LittleEndian.Uint64(data[:8]), binary.LittleEndian.Uint64(data[8:])
		if hi == 0 {
			w.raw(fmt.Sprintf("0x%x", lo))
		} else {
			w.raw(fmt.Sprintf("0x%x%016x", hi, lo))
		}
	case t.Encoding == btf.Signed:
		w.buf.WriteString(strconv.FormatInt(signExtend(readUint(data), len(data)), 10))
	default:
		w.buf.WriteString(strconv.FormatUint(readUint(data), 10))
	}
}

// array writes an array: a string if its elements are chars ending in a
// NUL with only printable ones before it (bpftool's is_str_array), else a
// list.
func (w *btfWriter) array(t *btf.Array, data []byte, depth int) error {
	elem := t.Type
	for {
		switch q := elem.(type) {
		case *btf.Const:
			elem = q.Type
			continue
		case *btf.Volatile:
			elem = q.Type
			continue
		case *btf.Restrict:
			elem = q.Type
			continue
		}
		break
	}
	if in, ok := elem.(*btf.Int); ok && in.Size == 1 && (in.Encoding == btf.Char || in.Name == "char") && t.Nelems > 0 {
		for i := 0; i < int(t.Nelems) && i < len(data); i++ {
			c := data[i]
			if c == 0 {
				w.str(string(data[:i]))
				return nil
			}
			if c <= 0x1f || c >= 0x7f {
				break
			}
		}
	}
	size, err := btf.Sizeof(t.Type)
	if err != nil {
		return err
	}
	w.buf.WriteByte('[')
	for i := 0; i < int(t.Nelems); i++ {
		if i > 0 {
			w.buf.WriteByte(',')
		}
		if err := w.value(t.Type, data[i*size:], depth+1); err != nil {
			return err
		}
	}
	w.buf.WriteByte(']')
	return nil
}

// members writes a struct's or union's members by name; a bit field as
// bpftool prints one (its bits as a 0x number).
func (w *btfWriter) members(ms []btf.Member, data []byte, depth int) error {
	w.buf.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			w.buf.WriteByte(',')
		}
		w.name(m.Name)
		if m.BitfieldSize > 0 {
			w.raw(fmt.Sprintf("0x%x", bitfield(data, uint32(m.Offset), uint32(m.BitfieldSize))))
			continue
		}
		off := int(m.Offset / 8)
		if off > len(data) {
			return fmt.Errorf("member %q at byte %d past %d bytes", m.Name, off, len(data))
		}
		if err := w.value(m.Type, data[off:], depth+1); err != nil {
			return err
		}
	}
	w.buf.WriteByte('}')
	return nil
}

// bitfield reads size bits at bit offset off (little-endian), up to 64.
func bitfield(data []byte, off, size uint32) uint64 {
	var v uint64
	for i := uint32(0); i < size && i < 64; i++ {
		bit := off + i
		if int(bit/8) < len(data) && data[bit/8]&(1<<(bit%8)) != 0 {
			v |= 1 << i
		}
	}
	return v
}

// readUint reads a little-endian unsigned integer of up to 8 bytes.
func readUint(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// signExtend reads v as a signed integer of size bytes.
func signExtend(v uint64, size int) int64 {
	if size >= 8 {
		return int64(v)
	}
	shift := uint(64 - 8*size)
	return int64(v<<shift) >> shift
}
