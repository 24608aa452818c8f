package main

// "bpfhost prog ...": programs in the daemon, in bpftool's grammar.

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bpfhost/bpfhost/daemon/api"
)

func newProgCommand() *cobra.Command {
	var f toolFlags
	cmd := &cobra.Command{
		Use:   "prog",
		Short: "Manage the daemon's programs, as bpftool prog does",
		Long: `Manage the programs of a running bpfhost daemon, in bpftool's grammar:

  bpfhost prog { show | list } [PROG]
  bpfhost prog load OBJ PATH [type TYPE] [map {idx IDX | name NAME} MAP]... [pinmaps DIR]
  bpfhost prog loadall OBJ DIR [type TYPE] [map {idx IDX | name NAME} MAP]... [pinmaps DIR]
  bpfhost prog run PROG data_in FILE [data_out FILE] [ctx_in FILE] [ctx_out FILE] [repeat N]
  bpfhost prog dump xlated PROG [linum]
  bpfhost prog dump jited PROG
  bpfhost prog pin PROG PATH

PROG and MAP are "id ID", "name NAME" or "pinned PATH". "map idx 0 pinned
/bpf/counts" makes the object's first map (libbpf's order) the existing
map, whose type and sizes the programs are verified against. FILE "-" is
standard input or output. -j prints bpftool's JSON, -p indents it.

As with bpftool, programs of sections whose names begin with "?" (SEC("?xdp"))
are not loaded, so load fails when the object's first program is one and
loadall when any is.`,
	}
	addToolFlags(cmd, &f)
	show := func(c *cobra.Command, args []string) error { return f.toolError(c, progShow(c, &f, args)) }
	cmd.AddCommand(
		&cobra.Command{Use: "show [PROG]", Aliases: []string{"list"}, Short: "Show programs", RunE: show},
		&cobra.Command{Use: "load OBJ PATH [type TYPE] [map {idx IDX | name NAME} MAP]... [pinmaps DIR]", Short: "Load an object's first program and pin it at PATH",
			RunE: func(c *cobra.Command, args []string) error { return f.toolError(c, progLoad(c, &f, args, false)) }},
		&cobra.Command{Use: "loadall OBJ DIR [type TYPE] [map {idx IDX | name NAME} MAP]... [pinmaps DIR]", Short: "Load every program of an object, pinned under DIR by name",
			RunE: func(c *cobra.Command, args []string) error { return f.toolError(c, progLoad(c, &f, args, true)) }},
		&cobra.Command{Use: "run PROG data_in FILE [data_out FILE] [ctx_in FILE] [ctx_out FILE] [repeat N]", Short: "Run a program as BPF_PROG_TEST_RUN does",
			RunE: func(c *cobra.Command, args []string) error { return f.toolError(c, progRun(c, &f, args)) }},
		&cobra.Command{Use: "dump {xlated PROG [linum] | jited PROG}", Short: "Print a program's instructions as loaded, or its machine code",
			RunE: func(c *cobra.Command, args []string) error { return f.toolError(c, progDump(c, &f, args)) }},
		&cobra.Command{Use: "pin PROG PATH", Short: "Pin a program at PATH",
			RunE: func(c *cobra.Command, args []string) error { return f.toolError(c, progPin(c, &f, args)) }},
	)
	return cmd
}

func progShow(cmd *cobra.Command, f *toolFlags, args []string) error {
	var progs []api.ProgInfo
	c, err := f.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	ctx := context.Background()
	single := len(args) > 0
	if single {
		r, rest, err := parseRef("PROG", args)
		if err != nil {
			return err
		}
		if err := noMoreArgs(rest); err != nil {
			return err
		}
		if r.Name != "" {
			// As bpftool: every program of that name.
			all, err := c.Programs(ctx)
			if err != nil {
				return err
			}
			for _, p := range all {
				if p.Name == r.Name {
					progs = append(progs, p)
				}
			}
			if len(progs) == 0 {
				return fmt.Errorf("no program named %q", r.Name)
			}
			single = len(progs) == 1
		} else {
			p, err := c.Program(ctx, r)
			if err != nil {
				return err
			}
			progs = []api.ProgInfo{p}
		}
	} else if progs, err = c.Programs(ctx); err != nil {
		return err
	}
	if !f.bpffs {
		for i := range progs {
			progs[i].Pinned = nil
		}
	}
	out := cmd.OutOrStdout()
	if f.asJSON() {
		if single {
			return f.emit(out, progs[0])
		}
		return f.emit(out, progs)
	}
	for _, p := range progs {
		fmt.Fprintf(out, "%d: %s  name %s  tag %s", p.ID, p.Type, p.Name, p.Tag)
		if p.GPLCompatible {
			fmt.Fprint(out, "  gpl")
		}
		if p.RunCnt > 0 {
			fmt.Fprintf(out, " run_time_ns %d run_cnt %d", p.RunTimeNs, p.RunCnt)
		}
		fmt.Fprintf(out, "\n\tloaded_at %s  uid %d\n", time.Unix(p.LoadedAt, 0).Format("2006-01-02T15:04:05-0700"), p.UID)
		fmt.Fprintf(out, "\txlated %dB  ", p.BytesXlated)
		if p.Jited {
			fmt.Fprintf(out, "jited %dB", p.BytesJited)
		} else {
			fmt.Fprint(out, "not jited")
		}
		if len(p.MapIDs) > 0 {
			ids := make([]string, len(p.MapIDs))
			for i, id := range p.MapIDs {
				ids[i] = strconv.FormatUint(uint64(id), 10)
			}
			fmt.Fprintf(out, "  map_ids %s", strings.Join(ids, ","))
		}
		fmt.Fprintln(out)
		for _, pin := range p.Pinned {
			fmt.Fprintf(out, "\tpinned %s\n", pin)
		}
	}
	return nil
}

// keywordArgs reads "KEY VALUE" pairs of the allowed keys.
func keywordArgs(args []string, allowed ...string) (map[string]string, error) {
	kv := map[string]string{}
	for len(args) > 0 {
		k := args[0]
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			return nil, badInput(fmt.Errorf("unexpected argument %q (want one of %s)", k, strings.Join(allowed, ", ")))
		}
		if len(args) < 2 {
			return nil, badInput(fmt.Errorf("%s: missing its value", k))
		}
		if _, dup := kv[k]; dup {
			return nil, badInput(fmt.Errorf("%s given twice", k))
		}
		kv[k] = args[1]
		args = args[2:]
	}
	return kv, nil
}

func progLoad(cmd *cobra.Command, f *toolFlags, args []string, all bool) error {
	if len(args) < 2 {
		return badInput(fmt.Errorf("expected OBJ PATH"))
	}
	kv, replace, err := loadArgs(args[2:])
	if err != nil {
		return err
	}
	obj, err := readFileLimit(args[0], objectFileLimit)
	if err != nil {
		return badInput(err)
	}
	c, err := f.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	// libbpf names the object by its file's base name up to the first
	// dot; its global data maps are pinned under that name.
	objName, _, _ := strings.Cut(filepath.Base(args[0]), ".")
	_, err = c.Load(context.Background(), api.LoadRequest{Object: obj, PinPath: pinPath(args[1]), All: all, Type: kv["type"], PinMaps: pinPath(kv["pinmaps"]), ObjectName: objName, Maps: replace})
	if err != nil {
		return err
	}
	return printNull(f, cmd.OutOrStdout())
}

// loadArgs reads the arguments of "prog load" after OBJ PATH as bpftool
// does: "type TYPE", "pinmaps DIR" and any number of "map {idx IDX | name
// NAME} MAP"; "dev NAME" (offload to a device) is refused.
func loadArgs(args []string) (map[string]string, []api.MapReplacement, error) {
	kv := map[string]string{}
	var replace []api.MapReplacement
	for len(args) > 0 {
		switch k := args[0]; k {
		case "type", "pinmaps":
			if len(args) < 2 {
				return nil, nil, badInput(fmt.Errorf("%s: missing its value", k))
			}
			if _, dup := kv[k]; dup {
				return nil, nil, badInput(fmt.Errorf("%s given twice", k))
			}
			kv[k] = args[1]
			args = args[2:]
		case "dev":
			return nil, nil, badInput(fmt.Errorf("dev: offloading a program to a device is not supported by bpfhost"))
		case "map":
			if len(args) < 3 {
				return nil, nil, badInput(fmt.Errorf("'map' needs at least 4 arguments, %d found", len(args)-1))
			}
			var r api.MapReplacement
			switch args[1] {
			case "idx":
				n, err := strconv.ParseUint(args[2], 10, 31)
				if err != nil {
					return nil, nil, badInput(fmt.Errorf("can't parse %s as IDX", args[2]))
				}
				idx := int(n)
				r.Idx = &idx
			case "name":
				r.Name = args[2]
			default:
				return nil, nil, badInput(fmt.Errorf("expected 'idx' or 'name', got: '%s'?", args[1]))
			}
			ref, rest, err := parseRef("MAP", args[3:])
			if err != nil {
				return nil, nil, err
			}
			r.Map = ref
			replace = append(replace, r)
			args = rest
		default:
			return nil, nil, badInput(fmt.Errorf("expected no more arguments, 'type', 'map' or 'pinmaps', got: '%s'?", k))
		}
	}
	return kv, replace, nil
}

// printNull prints what bpftool prints with -j after a command without
// output.
func printNull(f *toolFlags, out io.Writer) error {
	if f.asJSON() {
		_, err := fmt.Fprintln(out, "null")
		return err
	}
	return nil
}

// readArgFile reads FILE, "-" being standard input.
func readArgFile(cmd *cobra.Command, name string) ([]byte, error) {
	if name == "-" {
		return readAllLimit(cmd.InOrStdin(), "standard input", inputFileLimit)
	}
	b, err := readFileLimit(name, inputFileLimit)
	if err != nil {
		return nil, badInput(err)
	}
	return b, nil
}

func writeArgFile(cmd *cobra.Command, name string, b []byte) error {
	if name == "-" {
		_, err := cmd.OutOrStdout().Write(b)
		return err
	}
	return os.WriteFile(name, b, 0o644)
}

func progRun(cmd *cobra.Command, f *toolFlags, args []string) error {
	r, rest, err := parseRef("PROG", args)
	if err != nil {
		return err
	}
	kv, err := keywordArgs(rest, "data_in", "data_out", "ctx_in", "ctx_out", "repeat", "data_size_out", "ctx_size_out")
	if err != nil {
		return err
	}
	if kv["data_in"] == "" {
		return badInput(fmt.Errorf("data_in FILE is required"))
	}
	if kv["ctx_in"] == "" {
		// As bpftool: without ctx_in no context is passed at all, and
		// ctx_out is left alone (a zeroed context would be a run of
		// another input: an XDP packet of no bytes).
		delete(kv, "ctx_out")
	}
	// data_size_out and ctx_size_out bound the outputs, as the kernel
	// bounds them (0: bpftool's 32 KiB); bigger ones fail the run.
	sizes := map[string]uint64{}
	for _, k := range []string{"data_size_out", "ctx_size_out"} {
		if s := kv[k]; s != "" {
			n, err := strconv.ParseUint(s, 0, 32)
			if err != nil {
				return badInput(fmt.Errorf("%s %q: want a number", k, s))
			}
			sizes[k] = n
		}
	}
	req := api.RunRequest{Prog: r, WantCtxOut: kv["ctx_out"] != "" || kv["ctx_in"] != "" && sizes["ctx_size_out"] > 0}
	if req.DataIn, err = readArgFile(cmd, kv["data_in"]); err != nil {
		return err
	}
	if kv["ctx_in"] != "" {
		if req.CtxIn, err = readArgFile(cmd, kv["ctx_in"]); err != nil {
			return err
		}
	}
	if s := kv["repeat"]; s != "" {
		n, err := strconv.ParseUint(s, 0, 32)
		if err != nil {
			return badInput(fmt.Errorf("repeat %q: want a number", s))
		}
		req.Repeat = uint32(n)
	}
	c, err := f.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	res, err := c.Run(context.Background(), req)
	if err != nil {
		return err
	}
	if n := sizes["data_size_out"]; n > 0 && uint64(len(res.DataOut)) > n || sizes["ctx_size_out"] > 0 && uint64(len(res.CtxOut)) > sizes["ctx_size_out"] {
		// The kernel's ENOSPC, after the run (whose map updates stay).
		return fmt.Errorf("failed to run program: No space left on device")
	}
	// As bpftool: an output FILE "-" is printed, as a hex dump or, with
	// -j, as an array of byte values inside the JSON document (raw bytes
	// on stdout would break the document).
	out := cmd.OutOrStdout()
	doc := runJSON{Retval: res.Retval, Duration: res.Duration}
	for _, o := range []struct {
		name string
		b    []byte
		dst  *[]int
	}{{kv["data_out"], res.DataOut, &doc.DataOut}, {kv["ctx_out"], res.CtxOut, &doc.CtxOut}} {
		switch {
		case o.name == "":
		case o.name != "-":
			if err := writeArgFile(cmd, o.name, o.b); err != nil {
				return err
			}
		case f.asJSON():
			*o.dst = make([]int, len(o.b))
			for i, c := range o.b {
				(*o.dst)[i] = int(c)
			}
		default:
			hexDump(out, o.b)
		}
	}
	if f.asJSON() {
		return f.emit(out, doc)
	}
	_, err = fmt.Fprintf(out, "Return value: %d, duration%s: %dns\n", res.Retval, map[bool]string{true: " (average)", false: ""}[req.Repeat > 1], res.Duration)
	return err
}

// runJSON is what "prog run -j" prints, in bpftool's order.
type runJSON struct {
	DataOut  []int  `json:"data_out,omitempty"`
	CtxOut   []int  `json:"ctx_out,omitempty"`
	Retval   uint32 `json:"retval"`
	Duration int64  `json:"duration"`
}

// hexDump prints b as bpftool prints a run's output to stdout: rows of 16
// bytes with their offset, in pairs, and as characters ('.' if not
// printable).
func hexDump(w io.Writer, b []byte) {
	for row := 0; row < len(b); row += 16 {
		var sb strings.Builder
		fmt.Fprintf(&sb, "%07x\t", row)
		for j := row; j < row+16; j++ {
			sep := ""
			if j%2 == 1 {
				sep = " "
			}
			if j < len(b) {
				fmt.Fprintf(&sb, "%02x%s", b[j], sep)
			} else {
				sb.WriteString("  " + sep)
			}
		}
		sb.WriteString("| ")
		for j := row; j < row+16 && j < len(b); j++ {
			c := b[j]
			if c < ' ' || c > '~' {
				c = '.'
			}
			sb.WriteByte(c)
			if j == row+7 {
				sb.WriteByte(' ')
			}
		}
		fmt.Fprintln(w, sb.String())
	}
}

func progPin(cmd *cobra.Command, f *toolFlags, args []string) error {
	r, rest, err := parseRef("PROG", args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return badInput(fmt.Errorf("expected PROG PATH"))
	}
	c, err := f.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.PinProgram(context.Background(), r, pinPath(rest[0])); err != nil {
		return err
	}
	return printNull(f, cmd.OutOrStdout())
}

func progDump(cmd *cobra.Command, f *toolFlags, args []string) error {
	if len(args) > 0 && args[0] == "jited" {
		return progDumpJited(cmd, f, args[1:])
	}
	if len(args) == 0 || args[0] != "xlated" {
		return badInput(fmt.Errorf("expected xlated PROG or jited PROG"))
	}
	r, rest, err := parseRef("PROG", args[1:])
	if err != nil {
		return err
	}
	// bpftool's "linum" adds where each source line is.
	linum := len(rest) > 0 && rest[0] == "linum"
	if linum {
		rest = rest[1:]
	}
	if err := noMoreArgs(rest); err != nil {
		return err
	}
	c, err := f.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	if r.Name != "" {
		// As bpftool: every program of that name, each under a header.
		if named, err := programsNamed(c, r.Name); err != nil || len(named) > 1 {
			if err != nil {
				return err
			}
			return progXlatedMany(cmd.OutOrStdout(), f, c, named, linum)
		}
	}
	insns, err := c.Xlated(context.Background(), r)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if f.asJSON() {
		return f.emit(out, xlatedJSON(insns, linum))
	}
	printXlated(out, insns, linum)
	return nil
}

// bpftoolInsn is an instruction in bpftool's JSON of "prog dump xlated".
type bpftoolInsn struct {
	Proto  string `json:"proto,omitempty"`
	Src    string `json:"src,omitempty"`
	File   string `json:"file,omitempty"`
	Line   uint32 `json:"line_num,omitempty"`
	Col    uint32 `json:"line_col,omitempty"`
	Disasm string `json:"disasm"`
}

// xlatedJSON is a program's instructions as bpftool's JSON lists them.
func xlatedJSON(insns []api.XlatedInsn, linum bool) []bpftoolInsn {
	list := make([]bpftoolInsn, len(insns))
	for i, x := range insns {
		list[i] = bpftoolInsn{Proto: x.Proto, Src: x.Src, Disasm: x.Disasm}
		if linum && x.Src != "" {
			list[i].File, list[i].Line, list[i].Col = x.File, x.Line, x.Col
		}
	}
	return list
}

// printXlated prints a program's instructions as bpftool does for people.
func printXlated(out io.Writer, insns []api.XlatedInsn, linum bool) {
	for _, x := range insns {
		if x.Proto != "" {
			fmt.Fprintf(out, "%s:\n", x.Proto)
		}
		if x.Src != "" && linum {
			fmt.Fprintf(out, "; %s [file:%s line_num:%d line_col:%d]\n", x.Src, x.File, x.Line, x.Col)
		} else if x.Src != "" {
			fmt.Fprintf(out, "; %s\n", x.Src)
		}
		fmt.Fprintf(out, "%4d: %s\n", x.PC, x.Disasm)
	}
}
