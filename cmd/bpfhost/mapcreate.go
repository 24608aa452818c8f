package main

// "bpfhost map create": a map on its own in the daemon, in bpftool's
// grammar.

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/remote"
)

func newMapCreateCommand(f *toolFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "create FILE type TYPE key KEY_SIZE value VALUE_SIZE entries MAX_ENTRIES name NAME [flags FLAGS] [inner_map MAP]",
		Short: "Create a map and pin it at FILE",
		RunE:  func(c *cobra.Command, args []string) error { return f.toolError(c, mapCreate(c, f, args)) },
	}
}

// parseCreate reads "map create"'s arguments as bpftool does: keywords in
// any order, each once.
func parseCreate(args []string) (api.MapCreateRequest, error) {
	var req api.MapCreateRequest
	if len(args) < 7 {
		return req, badInput(fmt.Errorf("'create' needs at least 7 arguments, %d found", len(args)))
	}
	req.Path = pinPath(args[0])
	seen := map[string]bool{}
	num := func(key, what, s string, out *uint32) error {
		n, err := strconv.ParseUint(s, 0, 32)
		if err != nil {
			return badInput(fmt.Errorf("can't parse %s as %s", s, what))
		}
		*out = uint32(n)
		return nil
	}
	for rest := args[1:]; len(rest) > 0; {
		k := rest[0]
		switch k {
		case "type", "key", "value", "entries", "name", "flags", "inner_map", "dev", "offload_dev":
		default:
			return req, badInput(fmt.Errorf("unknown arg %s", k))
		}
		if len(rest) < 2 {
			return req, badInput(fmt.Errorf("'%s' needs at least 2 arguments, 1 found", k))
		}
		if seen[k] {
			return req, badInput(fmt.Errorf("%s already specified", k))
		}
		seen[k] = true
		v := rest[1]
		rest = rest[2:]
		var err error
		switch k {
		case "type":
			req.Type = v
		case "key":
			err = num(k, "key size", v, &req.KeySize)
		case "value":
			err = num(k, "value size", v, &req.ValueSize)
		case "entries":
			err = num(k, "max entries", v, &req.MaxEntries)
		case "flags":
			err = num(k, "flags", v, &req.Flags)
		case "name":
			req.Name = v
		case "inner_map":
			var r api.Ref
			r, rest, err = parseRef("MAP", append([]string{v}, rest...))
			req.InnerMap = &r
		case "dev", "offload_dev":
			// A device that runs the map (offload): Linux allows it for
			// a netdevsim or an offloading NIC's driver only.
			err = badInput(fmt.Errorf("map create failed: %s %s: offloading a map to a device is not supported by bpfhost", k, v))
		}
		if err != nil {
			return req, err
		}
	}
	if req.Name == "" {
		return req, badInput(fmt.Errorf("map name not specified"))
	}
	if req.Type == "" {
		// bpftool sends type 0, which Linux refuses.
		return req, badInput(fmt.Errorf("map create failed: Invalid argument (no map type)"))
	}
	return req, nil
}

func mapCreate(cmd *cobra.Command, f *toolFlags, args []string) error {
	req, err := parseCreate(args)
	if err != nil {
		return err
	}
	return withClient(f, func(ctx context.Context, c *remote.Client) error {
		if _, err := c.CreateMap(ctx, req); err != nil {
			return err
		}
		return printNull(f, cmd.OutOrStdout())
	})
}
