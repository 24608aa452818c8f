package main

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/maps"
)

// defaultMaxEntries is how many entries of each map `run` prints unless
// --max-entries says otherwise.
const defaultMaxEntries = 1000

// mapOmitted counts the entries of one map that `run` did not print: array
// entries whose value is all zero bytes (in every slot), and entries past
// the --max-entries cap. Ring buffer records past the cap are consumed and
// counted.
type mapOmitted struct {
	Zero uint64 `json:"zero"`
	More uint64 `json:"more"`
}

// walkMap calls emit for the entries of m that `run` prints, in iteration
// order, and returns what it left out. Nothing is built for the entries it
// leaves out: zero array values are recognised in place and entries past
// limit (0: no limit) are only counted, so memory stays bounded by limit
// and time by the map's size, whatever the size.
func walkMap(m *bpfhost.Map, limit uint64, emit func(mapEntry) error) (mapOmitted, error) {
	var om mapOmitted
	shown := uint64(0)
	show := func(e func() mapEntry) error {
		if limit != 0 && shown >= limit {
			om.More++
			return nil
		}
		shown++
		return emit(e())
	}
	index := func(i uint32) []byte { return binary.NativeEndian.AppendUint32(nil, i) }
	switch mm := m.Unwrap().(type) {
	case *maps.RingBufMap:
		var buf []byte
		for {
			rec, ok := mm.TryRead(buf)
			if !ok {
				return om, nil
			}
			buf = rec
			if err := show(func() mapEntry { return mapEntry{Value: hex.EncodeToString(rec)} }); err != nil {
				return om, err
			}
		}
	case *maps.ArrayMap:
		total := uint64(m.MaxEntries())
		var visited uint64
		for next := uint32(0); ; {
			i, ok := mm.NextNonZero(next)
			if !ok {
				break
			}
			visited++
			k := index(i)
			if err := show(func() mapEntry { return lookupEntry(m, k) }); err != nil {
				return om, err
			}
			if i == ^uint32(0) {
				break
			}
			next = i + 1
		}
		om.Zero = total - visited
		return om, nil
	case *maps.HandleArrayMap:
		for next := uint32(0); ; {
			i, ok := mm.NextUsed(next)
			if !ok {
				break
			}
			k := index(i)
			if err := show(func() mapEntry { return lookupEntry(m, k) }); err != nil {
				return om, err
			}
			if i == ^uint32(0) {
				break
			}
			next = i + 1
		}
		return om, nil
	}
	switch m.Type() {
	case maps.Queue, maps.Stack, maps.BloomFilter, maps.PerfEventArray:
		return om, nil // no keys to walk; queues and stacks are not drained
	}
	it := m.Iterate()
	var k, v []byte
	for it.Next(&k, &v) {
		if err := show(func() mapEntry { return makeEntry(m, k, v) }); err != nil {
			return om, err
		}
	}
	return om, it.Err()
}

// lookupEntry builds the entry of key k, which exists.
func lookupEntry(m *bpfhost.Map, k []byte) mapEntry {
	var v []byte
	if err := m.Lookup(k, &v); err != nil {
		return mapEntry{Key: hex.EncodeToString(k), Value: "(" + err.Error() + ")"}
	}
	return makeEntry(m, k, v)
}

// makeEntry formats a key and value; per-CPU values are listed per slot.
func makeEntry(m *bpfhost.Map, k, v []byte) mapEntry {
	e := mapEntry{Key: hex.EncodeToString(k)}
	if !m.Type().PerCPU() {
		e.Value = hex.EncodeToString(v)
		return e
	}
	stride := (int(m.ValueSize()) + 7) &^ 7
	for s := 0; s+stride <= len(v); s += stride {
		e.Values = append(e.Values, hex.EncodeToString(v[s:s+int(m.ValueSize())]))
	}
	return e
}

// mapNames returns the collection's map names in order.
func mapNames(coll *bpfhost.Collection) []string {
	names := make([]string, 0, len(coll.Maps))
	for n := range coll.Maps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// printMaps prints each map after the runs, streaming its entries as they
// are walked (keys of one map have one length, so columns line up without
// buffering), then a line that counts them and says what was left out.
func printMaps(out io.Writer, coll *bpfhost.Collection, limit uint64) error {
	w := bufio.NewWriter(out)
	for _, n := range mapNames(coll) {
		fmt.Fprintf(w, "\nmap %s:\n", n)
		var shown uint64
		om, err := walkMap(coll.Maps[n], limit, func(e mapEntry) error {
			shown++
			_, err := fmt.Fprintf(w, "  %s  %s\n", e.Key, tableValue(e))
			return err
		})
		if err != nil {
			return err
		}
		if om.More > 0 {
			fmt.Fprintf(w, "  ... %d more (--max-entries %d)\n", om.More, limit)
		}
		if total := shown + om.Zero + om.More; total == 1 {
			fmt.Fprint(w, "  1 entry")
		} else {
			fmt.Fprintf(w, "  %d entries", total)
		}
		if om.Zero > 0 {
			fmt.Fprintf(w, " (%d all zero, not shown)", om.Zero)
		}
		fmt.Fprintln(w)
	}
	return w.Flush()
}

// tableValue formats an entry's value for the table: per-CPU values slot by
// slot, and with many slots only the non-zero ones, by slot number.
func tableValue(e mapEntry) string {
	if e.Values == nil {
		return e.Value
	}
	if len(e.Values) <= 8 {
		return strings.Join(e.Values, " ")
	}
	var b strings.Builder
	zero := 0
	for i, v := range e.Values {
		if strings.Trim(v, "0") == "" {
			zero++
			continue
		}
		fmt.Fprintf(&b, "slot%d=%s ", i, v)
	}
	fmt.Fprintf(&b, "(%d of %d slots zero)", zero, len(e.Values))
	return b.String()
}

// writeRunJSON writes res as one JSON document, streaming the maps' entries
// to out as they are walked rather than building them first. The shape is
// runOutput's: "maps" holds the entries shown per map and "maps_omitted"
// what was left out ({"zero": all-zero array entries, "more": entries past
// --max-entries}).
func writeRunJSON(out io.Writer, res runOutput, coll *bpfhost.Collection, limit uint64) error {
	w := bufio.NewWriter(out)
	put := func(prefix string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		w.WriteString(prefix)
		_, err = w.Write(b)
		return err
	}
	for i, f := range []struct {
		name string
		v    any
	}{{"type_source", res.TypeSource}, {"program", res.Program}, {"type", res.Type}, {"engine", res.Engine}, {"runs", res.Runs}, {"printk", res.Printk}} {
		sep := ","
		if i == 0 {
			sep = "{"
		}
		if err := put(sep+`"`+f.name+`":`, f.v); err != nil {
			return err
		}
	}
	omitted := map[string]mapOmitted{}
	w.WriteString(`,"maps":{`)
	for i, n := range mapNames(coll) {
		if i > 0 {
			w.WriteString(",")
		}
		if err := put("", n); err != nil {
			return err
		}
		w.WriteString(":[")
		first := true
		om, err := walkMap(coll.Maps[n], limit, func(e mapEntry) error {
			sep := ","
			if first {
				sep, first = "", false
			}
			return put(sep, e)
		})
		if err != nil {
			return err
		}
		w.WriteString("]")
		omitted[n] = om
	}
	w.WriteString("}")
	if err := put(`,"maps_omitted":`, omitted); err != nil {
		return err
	}
	if res.Error != "" {
		if err := put(`,"error":`, res.Error); err != nil {
			return err
		}
	}
	w.WriteString("}\n")
	return w.Flush()
}
