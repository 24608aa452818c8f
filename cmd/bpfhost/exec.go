package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/hooks/sockaddr"
	"github.com/spf13/cobra"
)

type execFlags struct {
	attach          []string
	mapInit, report string
	engine          bpfhost.Engine
}

func newExecCommand() *cobra.Command {
	var f execFlags
	cmd := &cobra.Command{
		Use:   "exec [--attach TYPE=OBJECT:PROGRAM]... [--map-init FILE] [--report FILE] -- COMMAND [ARGS...]",
		Short: "Run a command with cgroup sock_addr programs on its socket calls (Linux)",
		Long: `exec runs COMMAND, and every thread and process it starts, with the attached programs
run on its socket, connect, bind, sendto/sendmsg/sendmmsg, recvfrom/recvmsg/recvmmsg, getpeername and
getsockname calls, as
Linux runs cgroup sock_addr and sock_create programs: 1 allows, 0 makes the call fail with EPERM,
and writes to the user address or port redirect it.
TYPE is one of ` + strings.Join(sockaddr.Types(), ", ") + `.
Each OBJECT is loaded once, with its programs of sections whose names begin with "?" (not loaded
automatically, as libbpf) only if an --attach names them.
--map-init fills the objects' maps (format as in "run"); a map whose name more than one
object uses is named OBJECT:NAME there and in the report, OBJECT as written in --attach.
--report writes {"exit_code", "programs", "maps", "maps_omitted", "printk"} as JSON when the
command exits (maps as in "run --json": all-zero array entries and entries past 1000 are
counted in maps_omitted, not shown).
bpfhost exits with COMMAND's status (128+N if a signal N ended it; 127 if COMMAND
is not found, 126 if it cannot run).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return execCommand(f, args) },
	}
	cmd.Flags().SetInterspersed(false) // COMMAND's own flags are not exec's
	cmd.Flags().StringArrayVar(&f.attach, "attach", nil, "TYPE=OBJECT:PROGRAM to attach (repeatable)")
	cmd.Flags().StringVar(&f.mapInit, "map-init", "", "JSON file with initial map entries")
	cmd.Flags().StringVar(&f.report, "report", "", "write a JSON report to FILE at exit")
	engineFlag(cmd.Flags(), &f.engine, bpfhost.EngineDefault, " (default: jit where available)")
	return cmd
}

type execProgram struct {
	Name       string `json:"name"`
	AttachType string `json:"attach_type"`
	Runs       uint64 `json:"runs"`
	Denied     uint64 `json:"denied"`
	Rewritten  uint64 `json:"rewritten"`
}

type execReport struct {
	ExitCode int                   `json:"exit_code"`
	Programs []execProgram         `json:"programs"`
	Maps     map[string][]mapEntry `json:"maps"`
	// MapsOmitted counts per map the entries Maps leaves out, as run's
	// JSON does: all-zero array entries and those past the 1000 shown.
	MapsOmitted map[string]mapOmitted `json:"maps_omitted"`
	Printk      []string              `json:"printk"`
}

// parseAttach splits an --attach argument TYPE=OBJECT:PROGRAM.
func parseAttach(a string) (typ, path, prog string, err error) {
	typ, rest, ok := strings.Cut(a, "=")
	i := strings.LastIndex(rest, ":")
	if !ok || i <= 0 || i == len(rest)-1 {
		return "", "", "", &exitError{code: 2, err: fmt.Errorf("--attach %q: want TYPE=OBJECT:PROGRAM", a)}
	}
	return typ, rest[:i], rest[i+1:], nil
}

func execCommand(f execFlags, args []string) error {
	if len(f.attach) == 0 {
		return &exitError{code: 2, err: errors.New("exec: no --attach TYPE=OBJECT:PROGRAM")}
	}
	var (
		colls   []*bpfhost.Collection
		paths   []string // colls[i]'s OBJECT as written in --attach
		byPath  = map[string]*bpfhost.Collection{}
		specs   = map[string]*bpfhost.CollectionSpec{}
		attachs []sockaddr.Attach
	)
	defer func() {
		for _, c := range colls {
			c.Close()
		}
	}()
	// The programs --attach names, by object: loaded even from "?"
	// sections (autoload.go).
	named := map[string][]string{}
	for _, a := range f.attach {
		if _, path, prog, err := parseAttach(a); err == nil {
			named[path] = append(named[path], prog)
		}
	}
	for _, a := range f.attach {
		typ, path, prog, err := parseAttach(a)
		if err != nil {
			return err
		}
		coll := byPath[path]
		if coll == nil {
			spec, err := loadSpecFor(path, "", &bpfhost.CollectionOptions{})
			if err != nil {
				return err
			}
			autoloadNamed(spec, named[path]...)
			if coll, err = bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: f.engine}); err != nil {
				return typeAdvice(err)
			}
			byPath[path], specs[path] = coll, spec
			colls, paths = append(colls, coll), append(paths, path)
		}
		name, err := pickProgram(specs[path], prog)
		if err != nil {
			return badInput(err)
		}
		attachs = append(attachs, sockaddr.Attach{Type: typ, Program: coll.Programs[name]})
	}
	maps := newExecMaps(paths, colls)
	if f.mapInit != "" {
		if err := initMapsBy(f.mapInit, maps.lookup); err != nil {
			return err
		}
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		// As a shell: 127 for a command not found, 126 for one found
		// that cannot run (not executable, a directory).
		code := 127
		if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EISDIR) {
			code = 126
		}
		return &exitError{code: code, err: err}
	}
	// The report's file is opened before the command runs, so that a
	// path that cannot be written fails before, not after it.
	var report *os.File
	if f.report != "" {
		if report, err = os.Create(f.report); err != nil {
			return err
		}
		defer report.Close()
	}
	c := exec.Command(path, args[1:]...)
	c.Args[0] = args[0]
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Keep supervising until the command exits, and pass signals on to
	// it (bpfhost dying would fail its supervised calls). SIGINT and
	// SIGQUIT from a terminal reach the command itself, in the same
	// foreground process group: they are passed on only when bpfhost is
	// not in its terminal's foreground group (kill, timeout -s INT,
	// a service manager), so that a Ctrl-C is not delivered twice.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwardedSignals...)
	defer signal.Stop(sigs)
	link, err := sockaddr.Start(c, attachs, nil)
	if err != nil {
		return err
	}
	go func() {
		for s := range sigs {
			if (s != syscall.SIGINT && s != syscall.SIGQUIT) || !terminalForeground() {
				c.Process.Signal(s)
			}
		}
	}()
	werr := link.Wait()
	code := 0
	if werr != nil {
		var ee *exec.ExitError
		if !errors.As(werr, &ee) {
			return werr
		}
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	}
	if report != nil {
		rep := execReport{ExitCode: code, Programs: []execProgram{}, Maps: map[string][]mapEntry{},
			MapsOmitted: map[string]mapOmitted{}, Printk: []string{}}
		for _, s := range link.Stats() {
			rep.Programs = append(rep.Programs, execProgram{Name: s.Name, AttachType: s.AttachType, Runs: s.Runs, Denied: s.Denied, Rewritten: s.Rewritten})
		}
		for i, coll := range colls {
			for _, name := range mapNames(coll) {
				entries := []mapEntry{}
				omitted, err := walkMap(coll.Maps[name], defaultMaxEntries, func(e mapEntry) error {
					entries = append(entries, e)
					return nil
				})
				if err != nil {
					return err
				}
				rep.Maps[maps.key(i, name)] = entries
				rep.MapsOmitted[maps.key(i, name)] = omitted
			}
			rep.Printk = append(rep.Printk, coll.Printk()...)
		}
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if _, err := report.Write(append(b, '\n')); err != nil {
			return err
		}
		if err := report.Close(); err != nil {
			return err
		}
	}
	if code != 0 {
		return &exitError{code: code, err: errSilent}
	}
	return nil
}

// errSilent is an exit status without a message (the command's own).
var errSilent = errors.New("")

// execMaps names the maps of the objects of bpfhost exec for --map-init
// and the report: a map by its name, or as OBJECT:NAME (OBJECT as written
// in --attach) where more than one object has a map of that name.
type execMaps struct {
	paths  []string
	colls  []*bpfhost.Collection
	owners map[string]int // how many objects have a map of the name
}

func newExecMaps(paths []string, colls []*bpfhost.Collection) *execMaps {
	m := &execMaps{paths: paths, colls: colls, owners: map[string]int{}}
	for _, c := range colls {
		for name := range c.Maps {
			m.owners[name]++
		}
	}
	return m
}

// key is the name of map name of object i.
func (m *execMaps) key(i int, name string) string {
	if m.owners[name] > 1 {
		return m.paths[i] + ":" + name
	}
	return name
}

// lookup finds a map, and the collection holding it, by its name or by
// OBJECT:NAME.
func (m *execMaps) lookup(key string) (*bpfhost.Map, *bpfhost.Collection, error) {
	switch m.owners[key] {
	case 1:
		for _, c := range m.colls {
			if mp, ok := c.Maps[key]; ok {
				return mp, c, nil
			}
		}
	case 0:
	default:
		return nil, nil, fmt.Errorf("map %q is in more than one object: name it OBJECT:%s", key, key)
	}
	if i := strings.LastIndex(key, ":"); i > 0 {
		for j, p := range m.paths {
			if p == key[:i] {
				if mp, ok := m.colls[j].Maps[key[i+1:]]; ok {
					return mp, m.colls[j], nil
				}
			}
		}
	}
	return nil, nil, fmt.Errorf("no map %q in the objects (%s)", key, strings.Join(m.paths, ", "))
}
