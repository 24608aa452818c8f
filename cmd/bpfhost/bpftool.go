package main

// Helpers of the commands that talk to the daemon in bpftool's grammar
// (prog.go, mapcmd.go): object references, byte arguments, bpftool's JSON.

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/remote"
)

// addDaemonCommands adds the daemon and the commands that talk to it, and
// bpftool's -p and -f beside -j (--json), before the object as bpftool
// takes them ("bpfhost -j -p prog show").
func addDaemonCommands(root *cobra.Command) {
	pf := root.PersistentFlags()
	pf.BoolP("pretty", "p", false, "print indented JSON (implies --json), for the daemon's commands")
	pf.BoolP("bpffs", "f", false, "show the paths objects are pinned at, for the daemon's commands")
	// bpftool's other options, which scripts pass: accepted, and of no
	// effect in bpfhost, which has no libbpf to debug or put in legacy
	// mode, mounts no bpffs, always reads legacy map definitions and has
	// no loader programs.
	for _, o := range []struct{ name, short, why string }{
		{"debug", "d", "bpftool's libbpf and verifier debug output; no effect in bpfhost"},
		{"legacy", "l", "bpftool's libbpf legacy mode; no effect in bpfhost"},
		{"mapcompat", "m", "bpftool's legacy map definitions; bpfhost always reads them"},
		{"nomount", "n", "bpftool's: do not mount a bpffs; bpfhost never mounts one"},
		{"use-loader", "L", "bpftool's loader programs; no effect in bpfhost"},
	} {
		pf.BoolP(o.name, o.short, false, o.why)
	}
	root.AddCommand(newDaemonCommand(), newVerifyChildCommand(), newProgCommand(), newMapCommand(), newUnpinCommand(), newNetCommand(), newLinkCommand())
}

// toolFlags are the flags of the daemon client commands, bpftool's.
type toolFlags struct {
	socket string
	json   bool
	pretty bool
	bpffs  bool
}

// addToolFlags registers the daemon's socket on cmd and reads bpftool's
// flags before each subcommand runs.
func addToolFlags(cmd *cobra.Command, f *toolFlags) {
	cmd.PersistentFlags().StringVar(&f.socket, "socket", "", "the daemon's socket (default $"+remote.SocketEnv+" or "+remote.DefaultSocket+")")
	cmd.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		fl := c.Flags()
		f.json, _ = fl.GetBool("json")
		f.pretty, _ = fl.GetBool("pretty")
		f.bpffs, _ = fl.GetBool("bpffs")
		return nil
	}
	// As bpftool: the group alone shows its objects, "help" prints the
	// usage, and anything else is an unknown command (exit 2), not the
	// usage with exit 0, which cobra does for a command without RunE.
	// Commands with their own RunE (unpin) keep it.
	if cmd.RunE != nil {
		return
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			if show, _, err := c.Find([]string{"show"}); err == nil && show != c && show.RunE != nil {
				return show.RunE(c, nil)
			}
		}
		if len(args) == 1 && args[0] == "help" {
			return c.Help()
		}
		if len(args) == 0 {
			return c.Help()
		}
		return f.toolError(c, badInput(fmt.Errorf("unknown command %q; see \"bpfhost %s help\"", args[0], c.Name())))
	}
}

func (f *toolFlags) asJSON() bool { return f.json || f.pretty }

// dial connects to the daemon.
func (f *toolFlags) dial() (*remote.Client, error) {
	c, err := remote.Dial(remote.Socket(f.socket))
	if err != nil {
		return nil, fmt.Errorf("%w (start one with \"bpfhost daemon\", or give --socket)", err)
	}
	return c, nil
}

// emit prints v as bpftool's JSON: "<" and ">" as they are, not escaped
// for HTML.
func (f *toolFlags) emit(w io.Writer, v any) error {
	if f.pretty {
		// Laid out as bpftool's -p lays it out.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return err
		}
		return writeBpftoolPretty(w, buf.Bytes())
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// toolError turns a failure into the command's error: with -j, stdout
// gets {"error": "..."} as bpftool prints it.
func (f *toolFlags) toolError(cmd *cobra.Command, err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) && ee.reported {
		return err // the command's output said it already
	}
	code := exitUsage
	var re *remote.Error
	if errors.As(err, &re) && re.Code == api.CodeRejected {
		code = exitFailed
	}
	if f.asJSON() {
		f.emit(cmd.OutOrStdout(), map[string]string{"error": err.Error()})
		return &exitError{code: code, err: err, reported: true}
	}
	return &exitError{code: code, err: err}
}

// parseRef reads "id N", "name NAME" or "pinned PATH" from args, and for
// a PROG also "tag TAG", and returns the rest.
func parseRef(what string, args []string) (api.Ref, []string, error) {
	forms := `"id ID", "name NAME" or "pinned PATH"`
	if what == "PROG" {
		forms = `"id ID", "name NAME", "tag TAG" or "pinned PATH"`
	}
	if len(args) < 2 {
		return api.Ref{}, nil, badInput(fmt.Errorf("expected %s as %s", what, forms))
	}
	var r api.Ref
	switch args[0] {
	case "id":
		n, err := strconv.ParseUint(args[1], 0, 32)
		if err != nil || n == 0 {
			return r, nil, badInput(fmt.Errorf("%s id %q: want a positive number", what, args[1]))
		}
		r.ID = uint32(n)
	case "name":
		r.Name = args[1]
	case "pinned":
		r.Pinned = pinPath(args[1])
	case "tag":
		if what != "PROG" {
			return r, nil, badInput(fmt.Errorf("expected %s as %s: a tag names a program", what, forms))
		}
		t := strings.ReplaceAll(args[1], ":", "")
		if _, err := hex.DecodeString(t); err != nil || len(t) != 16 {
			return r, nil, badInput(fmt.Errorf("%s tag %q: want 8 bytes in hexadecimal, as bpftool prints it", what, args[1]))
		}
		r.Tag = strings.ToLower(t)
	default:
		return r, nil, badInput(fmt.Errorf("expected %s as %s, got %q", what, forms, args[0]))
	}
	return r, args[2:], nil
}

// parseBytes reads n bytes as bpftool does: "hex" then hexadecimal bytes,
// or bytes in C notation (decimal, 0x hexadecimal, 0 octal).
func parseBytes(what string, args []string, n int) ([]byte, []string, error) {
	base := 0
	if len(args) > 0 && args[0] == "hex" {
		base = 16
		args = args[1:]
	}
	if len(args) < n {
		return nil, nil, badInput(fmt.Errorf("%s: %d bytes given, want %d", what, len(args), n))
	}
	out := make([]byte, n)
	for i := 0; i < n; i++ {
		s := args[i]
		if base == 16 {
			s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
		}
		v, err := strconv.ParseUint(s, base, 8)
		if err != nil {
			return nil, nil, badInput(fmt.Errorf("%s: byte %d %q is not a byte", what, i, args[i]))
		}
		out[i] = byte(v)
	}
	return out, args[n:], nil
}

// hexJSON is bytes as bpftool prints them in JSON: ["0x01", ...].
func hexJSON(b []byte) []string {
	out := make([]string, len(b))
	for i, c := range b {
		out[i] = fmt.Sprintf("0x%02x", c)
	}
	return out
}

// hexText is bytes as bpftool prints them for people: "01 02 ...".
func hexText(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%02x", c)
	}
	return sb.String()
}

// noMoreArgs fails on arguments left over.
func noMoreArgs(args []string) error {
	if len(args) > 0 {
		return badInput(fmt.Errorf("unexpected arguments: %s", strings.Join(args, " ")))
	}
	return nil
}
