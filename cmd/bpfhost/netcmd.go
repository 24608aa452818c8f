package main

// "bpfhost net ..." and "bpfhost link ...": the daemon's XDP links, in
// bpftool's grammar.

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/remote"
)

func newNetCommand() *cobra.Command {
	var f toolFlags
	cmd := &cobra.Command{
		Use:   "net",
		Short: "Attach XDP programs in the daemon, as bpftool net does",
		Long: `Attach XDP programs to devices in a running bpfhost daemon, in bpftool's grammar:

  bpfhost net attach {xdp | xdpgeneric} PROG dev IF [peer IF2] [overwrite]
  bpfhost net detach {xdp | xdpgeneric | xdpdrv | xdpoffload} dev IF
  bpfhost net { show | list } [dev IF]

PROG is "id ID", "name NAME" or "pinned PATH". With peer, frames the program
passes on one device leave on the other (bridge mode); without, the program
sees a copy of each frame (monitor mode). The daemon keeps the attachment,
also across restarts, until it is detached. A device that has a program
already is an error unless overwrite replaces it; detaching from a device
without one succeeds, as on Linux, and so does detaching from the driver
or offload mode (bpfhost attaches in neither). A device that does not
exist is an error ("invalid devname"), also for net show.`,
	}
	addToolFlags(cmd, &f)
	cmd.AddCommand(
		&cobra.Command{Use: "attach {xdp|xdpgeneric} PROG dev IF [peer IF2] [overwrite]", Short: "Attach an XDP program to a device",
			RunE: func(c *cobra.Command, args []string) error { return f.toolError(c, netAttach(c, &f, args)) }},
		&cobra.Command{Use: "detach {xdp|xdpgeneric|xdpdrv|xdpoffload} dev IF", Short: "Detach the XDP program of a device",
			RunE: func(c *cobra.Command, args []string) error { return f.toolError(c, netDetach(c, &f, args)) }},
		&cobra.Command{Use: "show [dev IF]", Aliases: []string{"list"}, Short: "Show the devices' XDP programs",
			RunE: func(c *cobra.Command, args []string) error { return f.toolError(c, netShow(c, &f, args)) }},
	)
	return cmd
}

// withClient dials the daemon and runs fn with it.
func withClient(f *toolFlags, fn func(ctx context.Context, c *remote.Client) error) error {
	c, err := f.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(context.Background(), c)
}

// checkAttachType accepts bpftool's XDP attach types that bpfhost's one
// data path serves: "xdp" (Linux picks the mode: generic on a device
// whose driver has no XDP, as bpfhost's devices) and "xdpgeneric" (the
// stack's mode, which bpfhost's user-space path resembles most); driver
// and offload modes need a kernel driver.
func checkAttachType(args []string) error {
	if len(args) == 0 {
		return badInput(fmt.Errorf("expected ATTACH_TYPE: xdp or xdpgeneric"))
	}
	switch args[0] {
	case "xdp", "xdpgeneric":
		return nil
	case "xdpdrv", "xdpoffload":
		return badInput(fmt.Errorf("attach type %s: not supported by bpfhost, whose XDP runs in the daemon, not in a driver; use xdp or xdpgeneric", args[0]))
	}
	return badInput(fmt.Errorf("invalid net attach/detach type: %s (want xdp or xdpgeneric)", args[0]))
}

// netAttachDriver refuses "net attach {xdpdrv | xdpoffload} PROG dev IF":
// bpfhost has neither mode. It fails as Linux does where Linux would fail
// anyway: a device that does not exist ("invalid devname"), and a driver
// program where a generic one is attached, overwrite or not.
func netAttachDriver(f *toolFlags, args []string) error {
	dev := ""
	for i := 1; i+1 < len(args); i++ {
		if args[i] == "dev" {
			dev = args[i+1]
		}
	}
	unsupported := checkAttachType(args)
	if dev == "" {
		return unsupported
	}
	return withClient(f, func(ctx context.Context, c *remote.Client) error {
		links, err := c.NetShow(ctx, dev)
		if err != nil {
			return err
		}
		if len(links) > 0 && args[0] == "xdpdrv" {
			return badInput(fmt.Errorf("interface %s attach failed: Native and generic XDP can't be active at the same time (bpfhost's XDP is generic only)", args[0]))
		}
		return unsupported
	})
}

// detachModes are the XDP modes of bpftool's detach types. Detaching from
// the driver or offload mode, where bpfhost attaches nothing, succeeds
// without detaching, as on Linux when no program is in that mode.
var detachModes = map[string]string{
	"xdp": "", "xdpgeneric": api.XDPModeGeneric, "xdpdrv": api.XDPModeDriver, "xdpoffload": api.XDPModeOffload,
}

func netAttach(cmd *cobra.Command, f *toolFlags, args []string) error {
	if len(args) > 0 && (args[0] == "xdpdrv" || args[0] == "xdpoffload") {
		return netAttachDriver(f, args)
	}
	if err := checkAttachType(args); err != nil {
		return err
	}
	r, rest, err := parseRef("PROG", args[1:])
	if err != nil {
		return err
	}
	// bpftool's "overwrite" is a word at the end; peer is bpfhost's.
	overwrite := len(rest) > 0 && rest[len(rest)-1] == "overwrite"
	if overwrite {
		rest = rest[:len(rest)-1]
	}
	kv, err := keywordArgs(rest, "dev", "peer")
	if err != nil {
		return err
	}
	if kv["dev"] == "" {
		return badInput(fmt.Errorf("expected \"dev IF\""))
	}
	return withClient(f, func(ctx context.Context, c *remote.Client) error {
		req := api.NetAttachRequest{Prog: r, Dev: kv["dev"], Peer: kv["peer"], Overwrite: overwrite}
		if _, err := c.NetAttach(ctx, req); err != nil {
			return err
		}
		return printNull(f, cmd.OutOrStdout())
	})
}

func netDetach(cmd *cobra.Command, f *toolFlags, args []string) error {
	if len(args) == 0 {
		return badInput(fmt.Errorf("expected ATTACH_TYPE: xdp, xdpgeneric, xdpdrv or xdpoffload"))
	}
	mode, ok := detachModes[args[0]]
	if !ok {
		return badInput(fmt.Errorf("invalid net attach/detach type: %s", args[0]))
	}
	if len(args) != 3 || args[1] != "dev" {
		return badInput(fmt.Errorf("expected \"%s dev IF\"", args[0]))
	}
	return withClient(f, func(ctx context.Context, c *remote.Client) error {
		if err := c.NetDetach(ctx, api.NetDetachRequest{Dev: args[2], Mode: mode}); err != nil {
			return err
		}
		return printNull(f, cmd.OutOrStdout())
	})
}

// netXDP is one entry of bpftool net show's "xdp" list.
type netXDP struct {
	Devname string `json:"devname"`
	Ifindex int    `json:"ifindex"`
	// Mode is "generic": bpfhost's XDP runs on the frames the stack
	// receives, as Linux's generic XDP, not in a driver.
	Mode string `json:"mode"`
	ID   uint32 `json:"id"`
}

// xdpMode is the mode "net show" gives bpfhost's links.
const xdpMode = "generic"

// netShowJSON is one element of bpftool net show's JSON, with its keys in
// bpftool's order; bpfhost has no tc or flow dissector hooks.
type netShowJSON struct {
	XDP           []netXDP `json:"xdp"`
	TC            []any    `json:"tc"`
	FlowDissector []any    `json:"flow_dissector"`
}

func netShow(cmd *cobra.Command, f *toolFlags, args []string) error {
	// bpftool's "dev NAME" shows that device's programs only; the
	// devices are the daemon's (maybe in another network namespace than
	// the client's), so the daemon says whether it exists.
	dev := ""
	if len(args) == 2 && args[0] == "dev" {
		dev, args = args[1], nil
	}
	if err := noMoreArgs(args); err != nil {
		return err
	}
	return withClient(f, func(ctx context.Context, c *remote.Client) error {
		var links []api.LinkInfo
		var err error
		if dev != "" {
			links, err = c.NetShow(ctx, dev)
		} else {
			links, err = c.Links(ctx)
		}
		if err != nil {
			return err
		}
		xdps := []netXDP{}
		for _, l := range links {
			xdps = append(xdps, netXDP{Devname: l.Devname, Ifindex: l.Ifindex, Mode: xdpMode, ID: l.ProgID})
		}
		out := cmd.OutOrStdout()
		if f.asJSON() {
			return f.emit(out, []netShowJSON{{XDP: xdps, TC: []any{}, FlowDissector: []any{}}})
		}
		fmt.Fprintln(out, "xdp:")
		for _, l := range links {
			fmt.Fprintf(out, "%s(%d) %s id %d", l.Devname, l.Ifindex, xdpMode, l.ProgID)
			if l.Peer != "" {
				fmt.Fprintf(out, " peer %s", l.Peer)
			}
			fmt.Fprintln(out)
		}
		fmt.Fprint(out, "\ntc:\n\nflow_dissector:\n\n")
		return nil
	})
}

func newLinkCommand() *cobra.Command {
	var f toolFlags
	cmd := &cobra.Command{
		Use:   "link",
		Short: "Manage the daemon's links, as bpftool link does",
		Long: `Manage the links (XDP attachments) of a running bpfhost daemon, in bpftool's grammar:

  bpfhost link { show | list } [LINK]
  bpfhost link pin LINK PATH
  bpfhost link detach LINK

LINK is "id ID" or "pinned PATH". -j prints bpftool's JSON, with the link's
packet counters beside bpftool's fields.`,
	}
	addToolFlags(cmd, &f)
	cmd.AddCommand(
		&cobra.Command{Use: "show [LINK]", Aliases: []string{"list"}, Short: "Show links",
			RunE: func(c *cobra.Command, args []string) error { return f.toolError(c, linkShow(c, &f, args)) }},
		&cobra.Command{Use: "pin LINK PATH", Short: "Pin a link at PATH",
			RunE: func(c *cobra.Command, args []string) error { return f.toolError(c, linkPin(c, &f, args)) }},
		&cobra.Command{Use: "detach LINK", Short: "Detach a link",
			RunE: func(c *cobra.Command, args []string) error { return f.toolError(c, linkDetach(c, &f, args)) }},
	)
	return cmd
}

func linkShow(cmd *cobra.Command, f *toolFlags, args []string) error {
	return withClient(f, func(ctx context.Context, c *remote.Client) error {
		var links []api.LinkInfo
		single := len(args) > 0
		if single {
			r, rest, err := parseRef("LINK", args)
			if err != nil {
				return err
			}
			if err := noMoreArgs(rest); err != nil {
				return err
			}
			l, err := c.Link(ctx, r)
			if err != nil {
				return err
			}
			links = []api.LinkInfo{l}
		} else {
			var err error
			if links, err = c.Links(ctx); err != nil {
				return err
			}
		}
		if !f.bpffs {
			for i := range links {
				links[i].Pinned = nil
			}
		}
		out := cmd.OutOrStdout()
		if f.asJSON() {
			if single {
				return f.emit(out, links[0])
			}
			return f.emit(out, links)
		}
		for _, l := range links {
			printLink(out, l)
		}
		return nil
	})
}

func printLink(out io.Writer, l api.LinkInfo) {
	fmt.Fprintf(out, "%d: %s  prog %d\n\tifindex %d (%s)", l.ID, l.Type, l.ProgID, l.Ifindex, l.Devname)
	if l.Peer != "" {
		fmt.Fprintf(out, "  peer %s", l.Peer)
	}
	fmt.Fprintf(out, "  packets %d  bytes %d\n", l.Packets, l.Bytes)
	for _, pin := range l.Pinned {
		fmt.Fprintf(out, "\tpinned %s\n", pin)
	}
}

func linkPin(cmd *cobra.Command, f *toolFlags, args []string) error {
	r, rest, err := parseRef("LINK", args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return badInput(fmt.Errorf("expected LINK PATH"))
	}
	return withClient(f, func(ctx context.Context, c *remote.Client) error {
		if err := c.PinLink(ctx, r, pinPath(rest[0])); err != nil {
			return err
		}
		return printNull(f, cmd.OutOrStdout())
	})
}

func linkDetach(cmd *cobra.Command, f *toolFlags, args []string) error {
	r, rest, err := parseRef("LINK", args)
	if err != nil {
		return err
	}
	if err := noMoreArgs(rest); err != nil {
		return err
	}
	return withClient(f, func(ctx context.Context, c *remote.Client) error {
		if err := c.DetachLink(ctx, r); err != nil {
			return err
		}
		return printNull(f, cmd.OutOrStdout())
	})
}

// progDumpJited prints a program's machine code from the daemon, as
// "bpftool prog dump jited": by eBPF instruction, with the routines the
// instructions share.
func progDumpJited(cmd *cobra.Command, f *toolFlags, args []string) error {
	r, rest, err := parseRef("PROG", args)
	if err != nil {
		return err
	}
	if err := noMoreArgs(rest); err != nil {
		return err
	}
	return withClient(f, func(ctx context.Context, c *remote.Client) error {
		blocks, err := c.Jited(ctx, r)
		if err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		if f.asJSON() {
			return f.emit(out, blocks)
		}
		for _, b := range blocks {
			switch {
			case b.PC < 0:
				fmt.Fprintf(out, "<%s>:\n", b.Name)
			case b.OutOfLine:
				fmt.Fprintf(out, "<out of line, instruction %d>:\n", b.PC)
			default:
				fmt.Fprintf(out, "%4d: %s\n", b.PC, b.Insn)
			}
			for _, line := range b.Code {
				fmt.Fprintf(out, "\t%s\n", line)
			}
		}
		return nil
	})
}
