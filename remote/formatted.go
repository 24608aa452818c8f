package remote

import (
	"context"
	"fmt"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// LookupEntry looks up req.Key and returns the entry with, if
// req.Formatted asks for it and the map has BTF types, bpftool's formatted
// document; slots is the number of per-CPU values (0 for other maps).
func (c *Client) LookupEntry(ctx context.Context, req api.MapRequest) (e api.Entry, slots int, err error) {
	var res api.MapResult
	if err := c.post(ctx, api.PathMapLookup, req, &res); err != nil {
		return e, 0, err
	}
	if len(res.Entries) != 1 {
		return e, 0, fmt.Errorf("daemon's answer has %d entries, want 1", len(res.Entries))
	}
	return res.Entries[0], res.Slots, nil
}

// DumpEntries returns every entry of req.Map, formatted as req.Formatted
// asks where the map has BTF types (MapResult.Typed says it has).
func (c *Client) DumpEntries(ctx context.Context, req api.MapRequest) (api.MapResult, error) {
	var res api.MapResult
	err := c.post(ctx, api.PathMapDump, req, &res)
	return res, err
}
