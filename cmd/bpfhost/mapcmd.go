package main

// "bpfhost map ...": maps in the daemon, in bpftool's grammar.

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/remote"
)

func newMapCommand() *cobra.Command {
	var f toolFlags
	cmd := &cobra.Command{
		Use:   "map",
		Short: "Manage the daemon's maps, as bpftool map does",
		Long: `Manage the maps of a running bpfhost daemon, in bpftool's grammar:

  bpfhost map { show | list } [MAP]
  bpfhost map create FILE type TYPE key KEY_SIZE value VALUE_SIZE entries MAX_ENTRIES name NAME [flags FLAGS] [inner_map MAP]
  bpfhost map dump MAP
  bpfhost map lookup MAP key DATA
  bpfhost map update MAP key DATA value VALUE [UPDATE_FLAGS]
  bpfhost map delete MAP key DATA
  bpfhost map getnext MAP [key DATA]
  bpfhost map pin MAP PATH
  bpfhost map freeze MAP
  bpfhost map event_pipe MAP
  bpfhost map { peek | pop | dequeue } MAP
  bpfhost map { push | enqueue } MAP value VALUE [UPDATE_FLAGS]

MAP is "id ID", "name NAME" or "pinned PATH". DATA and VALUE are bytes:
"hex 01 02 ..." or C numbers "1 0x2 ..."; the VALUE of a program array is a
PROG ("id ID", "name NAME" or "pinned PATH"), of a map of maps a MAP. UPDATE_FLAGS is any, exist or
noexist. -j prints bpftool's JSON, -p indents it.`,
	}
	addToolFlags(cmd, &f)
	run := func(fn func(*cobra.Command, *toolFlags, *remote.Client, api.Ref, api.MapInfo, []string) error) func(*cobra.Command, []string) error {
		return func(c *cobra.Command, args []string) error {
			return f.toolError(c, withMap(&f, args, func(cl *remote.Client, r api.Ref, info api.MapInfo, rest []string) error {
				return fn(c, &f, cl, r, info, rest)
			}))
		}
	}
	cmd.AddCommand(
		&cobra.Command{Use: "show [MAP]", Aliases: []string{"list"}, Short: "Show maps",
			RunE: func(c *cobra.Command, args []string) error { return f.toolError(c, mapShow(c, &f, args)) }},
		&cobra.Command{Use: "dump MAP", Short: "Print every entry (of every map of a name, as bpftool)",
			RunE: func(c *cobra.Command, args []string) error { return f.toolError(c, mapDumpCommand(c, &f, args)) }},
		&cobra.Command{Use: "lookup MAP key DATA", Short: "Print the entry of a key", RunE: run(mapLookup)},
		&cobra.Command{Use: "update MAP key DATA value VALUE [any|exist|noexist]", Short: "Set the value of a key", RunE: run(mapUpdate)},
		&cobra.Command{Use: "delete MAP key DATA", Short: "Delete a key", RunE: run(mapDelete)},
		&cobra.Command{Use: "getnext MAP [key DATA]", Short: "Print the key after a key, or the first key", RunE: run(mapGetNext)},
		&cobra.Command{Use: "pin MAP PATH", Short: "Pin a map at PATH", RunE: run(mapPin)},
		&cobra.Command{Use: "freeze MAP", Short: "Make a map read-only for user space", RunE: run(mapFreeze)},
		&cobra.Command{Use: "event_pipe MAP", Short: "Print a ring buffer's records as they come, until interrupted", RunE: run(mapEventPipe)},
	)
	cmd.AddCommand(queueCommands(run)...)
	cmd.AddCommand(newMapCreateCommand(&f))
	return cmd
}

// withMap dials the daemon, resolves the MAP of args and calls fn with
// the arguments after it.
func withMap(f *toolFlags, args []string, fn func(*remote.Client, api.Ref, api.MapInfo, []string) error) error {
	r, rest, err := parseRef("MAP", args)
	if err != nil {
		return err
	}
	c, err := f.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	info, err := c.Map(context.Background(), r)
	if err != nil {
		return err
	}
	// Later calls name the map by ID, so that they all reach this one.
	return fn(c, api.Ref{ID: info.ID}, info, rest)
}

func mapShow(cmd *cobra.Command, f *toolFlags, args []string) error {
	c, err := f.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	var ms []api.MapInfo
	single := len(args) > 0
	if single {
		r, rest, err := parseRef("MAP", args)
		if err != nil {
			return err
		}
		if err := noMoreArgs(rest); err != nil {
			return err
		}
		if r.Name != "" {
			// As bpftool: every map of that name.
			all, err := c.Maps(context.Background())
			if err != nil {
				return err
			}
			for _, m := range all {
				if m.Name == r.Name {
					ms = append(ms, m)
				}
			}
			if len(ms) == 0 {
				return fmt.Errorf("no map named %q", r.Name)
			}
			single = len(ms) == 1
		} else {
			m, err := c.Map(context.Background(), r)
			if err != nil {
				return err
			}
			ms = []api.MapInfo{m}
		}
	} else if ms, err = c.Maps(context.Background()); err != nil {
		return err
	}
	if !f.bpffs {
		for i := range ms {
			ms[i].Pinned = nil
		}
	}
	out := cmd.OutOrStdout()
	if f.asJSON() {
		if single {
			return f.emit(out, ms[0])
		}
		return f.emit(out, ms)
	}
	for _, m := range ms {
		fmt.Fprintf(out, "%d: %s  name %s  flags 0x%x\n", m.ID, m.Type, m.Name, m.Flags)
		fmt.Fprintf(out, "\tkey %dB  value %dB  max_entries %d  memlock %dB", m.BytesKey, m.BytesValue, m.MaxEntries, m.BytesMemlock)
		if m.Frozen != 0 {
			fmt.Fprint(out, "\n\tfrozen")
		}
		fmt.Fprintln(out)
		if m.MemoryFile != "" {
			fmt.Fprintf(out, "\tmemory_file %s\n", m.MemoryFile)
		}
		for _, pin := range m.Pinned {
			fmt.Fprintf(out, "\tpinned %s\n", pin)
		}
	}
	return nil
}

// perCPU is one slot's value in bpftool's JSON of per-CPU maps.
type perCPU struct {
	CPU   int      `json:"cpu"`
	Value []string `json:"value"`
}

// entryJSON is an entry as bpftool prints it: "value" or, per CPU,
// "values".
func entryJSON(info api.MapInfo, slots int, e api.Entry) any {
	if slots == 0 {
		return struct {
			Key       []string        `json:"key"`
			Value     []string        `json:"value"`
			Formatted json.RawMessage `json:"formatted,omitempty"`
		}{hexJSON(e.Key), hexJSON(e.Value), e.Formatted}
	}
	var vals []perCPU
	for i, v := range splitSlots(info, slots, e.Value) {
		vals = append(vals, perCPU{CPU: i, Value: hexJSON(v)})
	}
	return struct {
		Key       []string        `json:"key"`
		Values    []perCPU        `json:"values"`
		Formatted json.RawMessage `json:"formatted,omitempty"`
	}{hexJSON(e.Key), vals, e.Formatted}
}

// formatIn is how entries are asked to be formatted: as bpftool's JSON or
// for people.
func formatIn(f *toolFlags) string {
	if f.asJSON() {
		return "json"
	}
	return "plain"
}

// printFormatted prints, as bpftool prints the entries of a map with BTF
// for people, their formatted documents laid out as its pretty JSON (a
// list for a dump, one for a lookup); ok is false if an entry has none.
func printFormatted(out io.Writer, entries []api.Entry, list bool) (ok bool, err error) {
	docs := make([]json.RawMessage, len(entries)) // [] for none, as bpftool
	for i, e := range entries {
		if e.Formatted == nil {
			return false, nil
		}
		docs[i] = e.Formatted
	}
	var doc []byte
	if list {
		doc, err = json.Marshal(docs)
	} else if len(docs) == 1 {
		doc = docs[0]
	}
	if err != nil || doc == nil {
		return false, err
	}
	return true, writeBpftoolPretty(out, doc)
}

// splitSlots cuts a per-CPU value into each slot's value.
func splitSlots(info api.MapInfo, slots int, v []byte) [][]byte {
	stride := int((info.BytesValue + 7) &^ 7)
	var out [][]byte
	for i := 0; i < slots && (i+1)*stride <= len(v); i++ {
		out = append(out, v[i*stride:i*stride+int(info.BytesValue)])
	}
	return out
}

// printEntry prints an entry as bpftool does for people.
func printEntry(out io.Writer, info api.MapInfo, slots int, e api.Entry) {
	if slots > 0 {
		fmt.Fprintf(out, "key:\n%s\n", hexText(e.Key))
		for i, v := range splitSlots(info, slots, e.Value) {
			fmt.Fprintf(out, "value (CPU %02d): %s\n", i, hexText(v))
		}
		return
	}
	if len(e.Key)+len(e.Value) <= 24 {
		fmt.Fprintf(out, "key: %s  value: %s\n", hexText(e.Key), hexText(e.Value))
		return
	}
	fmt.Fprintf(out, "key:\n%s\nvalue:\n%s\n", hexText(e.Key), hexText(e.Value))
}

func mapDump(cmd *cobra.Command, f *toolFlags, c *remote.Client, r api.Ref, info api.MapInfo, args []string) error {
	if err := noMoreArgs(args); err != nil {
		return err
	}
	res, err := c.DumpEntries(context.Background(), api.MapRequest{Map: r, Formatted: formatIn(f)})
	if err != nil {
		return err
	}
	entries, slots := res.Entries, res.Slots
	out := cmd.OutOrStdout()
	if !f.asJSON() && res.Typed {
		if ok, err := printFormatted(out, entries, true); ok || err != nil {
			return err
		}
	}
	holes := withHoles(info, entries)
	if f.asJSON() {
		list := make([]any, 0, len(holes))
		for _, e := range holes {
			if e.Value == nil {
				list = append(list, noEntryJSON{Key: hexJSON(e.Key), Value: map[string]string{"error": "No such file or directory"}})
				continue
			}
			list = append(list, entryJSON(info, slots, e))
		}
		return f.emit(out, list)
	}
	return printEntries(out, info, res)
}

// printEntries prints a dump's entries for people, as bpftool does for a
// map without BTF types, and their count.
func printEntries(out io.Writer, info api.MapInfo, res api.MapResult) error {
	for _, e := range withHoles(info, res.Entries) {
		if e.Value == nil {
			fmt.Fprintf(out, "key: %s  value: <no entry>\n", hexText(e.Key))
			continue
		}
		printEntry(out, info, res.Slots, e)
	}
	s := "s"
	if len(res.Entries) == 1 {
		s = ""
	}
	_, err := fmt.Fprintf(out, "Found %d element%s\n", len(res.Entries), s)
	return err
}

// noEntryJSON is bpftool's JSON of a key a dump found without a value.
type noEntryJSON struct {
	Key   []string          `json:"key"`
	Value map[string]string `json:"value"`
}

// withHoles returns a devmap's or cpumap's entries with every index
// without one among them (Value nil), as bpftool dumps these arrays: it
// walks every index and says "<no entry>" where a lookup finds none.
// Other maps' entries are returned as they are.
func withHoles(info api.MapInfo, entries []api.Entry) []api.Entry {
	if (info.Type != "devmap" && info.Type != "cpumap") || info.BytesKey != 4 {
		return entries
	}
	have := map[uint32]api.Entry{}
	for _, e := range entries {
		if len(e.Key) == 4 {
			have[binary.LittleEndian.Uint32(e.Key)] = e
		}
	}
	out := make([]api.Entry, 0, info.MaxEntries)
	for i := uint32(0); i < info.MaxEntries; i++ {
		if e, ok := have[i]; ok {
			out = append(out, e)
		} else {
			out = append(out, api.Entry{Key: binary.LittleEndian.AppendUint32(nil, i)})
		}
	}
	return out
}

// keyArg reads "key DATA" for a map.
func keyArg(info api.MapInfo, args []string) ([]byte, []string, error) {
	if len(args) == 0 || args[0] != "key" {
		return nil, nil, badInput(errors.New("expected key DATA"))
	}
	return parseBytes("key", args[1:], int(info.BytesKey))
}

func mapLookup(cmd *cobra.Command, f *toolFlags, c *remote.Client, r api.Ref, info api.MapInfo, args []string) error {
	key, rest, err := keyArg(info, args)
	if err != nil {
		return err
	}
	if err := noMoreArgs(rest); err != nil {
		return err
	}
	e, _, err := c.LookupEntry(context.Background(), api.MapRequest{Map: r, Key: key, Formatted: formatIn(f)})
	if errors.Is(err, remote.ErrNotFound) {
		// As bpftool: a missing key is its output, "null" in JSON, and a
		// failure (the map was found by withMap: the key is missing).
		out := cmd.OutOrStdout()
		if f.asJSON() {
			fmt.Fprintln(out, "null")
		} else {
			fmt.Fprintf(out, "key:\n%s\n\nNot found\n", hexText(key))
		}
		return &exitError{code: exitUsage, err: errors.New(""), reported: true}
	}
	if err != nil {
		return err
	}
	v := e.Value
	slots := 0
	if info.BytesValue > 0 && len(v) > int(info.BytesValue) {
		slots = len(v) / int((info.BytesValue+7)&^7)
	}
	if !f.asJSON() {
		if ok, err := printFormatted(cmd.OutOrStdout(), []api.Entry{e}, false); ok || err != nil {
			return err
		}
	}
	if f.asJSON() {
		return f.emit(cmd.OutOrStdout(), entryJSON(info, slots, e))
	}
	printEntry(cmd.OutOrStdout(), info, slots, e)
	return nil
}

func mapUpdate(cmd *cobra.Command, f *toolFlags, c *remote.Client, r api.Ref, info api.MapInfo, args []string) error {
	key, rest, err := keyArg(info, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 || rest[0] != "value" {
		return badInput(errors.New("expected value VALUE after the key"))
	}
	var value []byte
	var obj *api.Ref
	if what := objectValue(info.Type); what != "" {
		// As bpftool: the value of a program array is a PROG, of a
		// map of maps a MAP.
		r, more, err := parseRef(what, rest[1:])
		if err != nil {
			return err
		}
		obj, rest = &r, more
	} else if value, rest, err = parseBytes("value", rest[1:], int(info.BytesValue)); err != nil {
		return err
	}
	flags, rest, err := updateFlags(rest)
	if err != nil {
		return err
	}
	if err := noMoreArgs(rest); err != nil {
		return err
	}
	if obj != nil {
		err = c.UpdateObject(context.Background(), r, key, *obj, flags)
	} else {
		err = c.Update(context.Background(), r, key, value, flags)
	}
	if err != nil {
		return err
	}
	return printNull(f, cmd.OutOrStdout())
}

// updateFlags reads bpftool's optional UPDATE_FLAGS (any, noexist,
// exist) and returns the rest.
func updateFlags(args []string) (uint64, []string, error) {
	if len(args) == 0 {
		return 0, args, nil
	}
	switch args[0] {
	case "any":
		return 0, args[1:], nil
	case "noexist":
		return 1, args[1:], nil
	case "exist":
		return 2, args[1:], nil
	}
	return 0, nil, badInput(fmt.Errorf("update flags %q: want any, exist or noexist", args[0]))
}

// objectValue is what the value of a map of type t names, as bpftool's
// grammar takes it ("PROG", "MAP"), or "" for bytes.
func objectValue(t string) string {
	switch t {
	case "prog_array":
		return "PROG"
	case "array_of_maps", "hash_of_maps":
		return "MAP"
	}
	return ""
}

func mapDelete(cmd *cobra.Command, f *toolFlags, c *remote.Client, r api.Ref, info api.MapInfo, args []string) error {
	key, rest, err := keyArg(info, args)
	if err != nil {
		return err
	}
	if err := noMoreArgs(rest); err != nil {
		return err
	}
	if err := c.Delete(context.Background(), r, key); err != nil {
		return err
	}
	return printNull(f, cmd.OutOrStdout())
}

func mapGetNext(cmd *cobra.Command, f *toolFlags, c *remote.Client, r api.Ref, info api.MapInfo, args []string) error {
	var key []byte
	if len(args) > 0 {
		var err error
		var rest []string
		if key, rest, err = keyArg(info, args); err != nil {
			return err
		}
		if err := noMoreArgs(rest); err != nil {
			return err
		}
	}
	next, err := c.NextKey(context.Background(), r, key)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if f.asJSON() {
		var k any
		if key != nil {
			k = hexJSON(key)
		}
		return f.emit(out, map[string]any{"key": k, "next_key": hexJSON(next)})
	}
	if key == nil {
		fmt.Fprintln(out, "key: None")
	} else {
		fmt.Fprintf(out, "key:\n%s\n", hexText(key))
	}
	_, err = fmt.Fprintf(out, "next key:\n%s\n", hexText(next))
	return err
}

func mapPin(cmd *cobra.Command, f *toolFlags, c *remote.Client, r api.Ref, info api.MapInfo, args []string) error {
	if len(args) != 1 {
		return badInput(errors.New("expected MAP PATH"))
	}
	if err := c.PinMap(context.Background(), r, pinPath(args[0])); err != nil {
		return err
	}
	return printNull(f, cmd.OutOrStdout())
}

func mapFreeze(cmd *cobra.Command, f *toolFlags, c *remote.Client, r api.Ref, info api.MapInfo, args []string) error {
	if err := noMoreArgs(args); err != nil {
		return err
	}
	if err := c.Freeze(context.Background(), r); err != nil {
		return err
	}
	return printNull(f, cmd.OutOrStdout())
}

func mapEventPipe(cmd *cobra.Command, f *toolFlags, c *remote.Client, r api.Ref, info api.MapInfo, args []string) error {
	if err := noMoreArgs(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	out := cmd.OutOrStdout()
	n := 0
	return c.Events(ctx, r, func(ev api.Event) error {
		data := ev.Data
		if ev.Lost != 0 {
			// As bpftool: a report of lost samples, by CPU.
			if f.asJSON() {
				return f.emit(out, map[string]any{"cpu": *ev.CPU, "lost": map[string]any{"count": ev.Lost}})
			}
			_, err := fmt.Fprintf(out, "== @cpu %d: lost %d samples\n", *ev.CPU, ev.Lost)
			return err
		}
		defer func() { n++ }()
		if ev.CPU != nil {
			if f.asJSON() {
				return f.emit(out, map[string]any{"cpu": *ev.CPU, "index": n, "data": hexJSON(data)})
			}
			_, err := fmt.Fprintf(out, "== @cpu %d: record %d: %d bytes\n%s\n", *ev.CPU, n, len(data), hexText(data))
			return err
		}
		if f.asJSON() {
			return f.emit(out, map[string]any{"index": n, "data": hexJSON(data)})
		}
		_, err := fmt.Fprintf(out, "== record %d: %d bytes\n%s\n", n, len(data), hexText(data))
		return err
	})
}
