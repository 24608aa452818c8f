package main

// "map dump name NAME" when several maps have that name: bpftool dumps
// each of them, under a header, where every other command that takes one
// MAP fails ("several maps match this handle").

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/remote"
)

// mapDumpCommand runs "map dump MAP": of every map a name names if there
// are several, else of the one MAP names.
func mapDumpCommand(cmd *cobra.Command, f *toolFlags, args []string) error {
	r, rest, err := parseRef("MAP", args)
	if err != nil {
		return err
	}
	if r.Name == "" {
		return withMap(f, args, func(c *remote.Client, r api.Ref, info api.MapInfo, rest []string) error {
			return mapDump(cmd, f, c, r, info, rest)
		})
	}
	if err := noMoreArgs(rest); err != nil {
		return err
	}
	c, err := f.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	all, err := c.Maps(context.Background())
	if err != nil {
		return err
	}
	var named []api.MapInfo
	for _, m := range all {
		if m.Name == r.Name {
			named = append(named, m)
		}
	}
	if len(named) < 2 {
		// One map, or a section name ("name .rodata"): as any MAP.
		info, err := c.Map(context.Background(), r)
		if err != nil {
			return err
		}
		return mapDump(cmd, f, c, api.Ref{ID: info.ID}, info, nil)
	}
	return mapDumpMany(cmd.OutOrStdout(), f, c, named)
}

// mapDumpHeader is the header of one map in bpftool's JSON of a dump of
// several: its map's fields, then its entries.
type mapDumpHeader struct {
	ID       uint32 `json:"id"`
	Type     string `json:"type"`
	Name     string `json:"name"`
	Flags    uint32 `json:"flags"`
	Elements []any  `json:"elements"`
}

// mapDumpMany dumps several maps as bpftool does: with -j, a list of
// their headers with their entries; for people, the formatted entries of
// maps with BTF types the same way, laid out as bpftool's pretty JSON, or
// each map's header line, its entries and their count, maps apart by an
// empty line.
func mapDumpMany(out io.Writer, f *toolFlags, c *remote.Client, maps []api.MapInfo) error {
	results := make([]api.MapResult, len(maps))
	typed := true
	for i, m := range maps {
		res, err := c.DumpEntries(context.Background(), api.MapRequest{Map: api.Ref{ID: m.ID}, Formatted: formatIn(f)})
		if err != nil {
			return err
		}
		results[i] = res
		typed = typed && res.Typed
		for _, e := range res.Entries {
			typed = typed && e.Formatted != nil
		}
	}
	if f.asJSON() || typed {
		docs := make([]mapDumpHeader, len(maps))
		for i, m := range maps {
			docs[i] = mapDumpHeader{ID: m.ID, Type: m.Type, Name: m.Name, Flags: m.Flags, Elements: []any{}}
			for _, e := range withHoles(m, results[i].Entries) {
				switch {
				case !f.asJSON():
					docs[i].Elements = append(docs[i].Elements, e.Formatted)
				case e.Value == nil:
					docs[i].Elements = append(docs[i].Elements, noEntryJSON{Key: hexJSON(e.Key), Value: map[string]string{"error": "No such file or directory"}})
				default:
					docs[i].Elements = append(docs[i].Elements, entryJSON(m, results[i].Slots, e))
				}
			}
		}
		if f.asJSON() {
			return f.emit(out, docs)
		}
		doc, err := json.Marshal(docs)
		if err != nil {
			return err
		}
		return writeBpftoolPretty(out, doc)
	}
	for i, m := range maps {
		if i > 0 {
			fmt.Fprintln(out)
		}
		fmt.Fprintf(out, "%d: %s  name %s  flags 0x%x\n", m.ID, m.Type, m.Name, m.Flags)
		printEntries(out, m, results[i])
	}
	return nil
}
