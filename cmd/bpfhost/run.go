package main

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
	"github.com/spf13/cobra"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/maps"
)

type runFlags struct {
	types                                []string // --type
	program, data, pcap, mapInit, engine string
	pcapOut                              string
	repeat                               uint32
	consts                               []string
	unverified                           bool
}

func newRunCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run OBJECT --program NAME [--data FILE | --pcap FILE]",
		Short: "Load an object and run one program on a buffer or on every packet of a pcap",
		Long: `Load an object and run one program the way BPF_PROG_TEST_RUN does.

--pcap runs every packet in order, keeping map state between them; --data runs
one buffer (no input runs once on an empty buffer where the type allows).
--map-init takes a JSON object {"<map>": [{"key": "<hex>", "value": "<hex>"}]}
applied with BPF_ANY before the first run. --repeat N runs each input N times
and reports the average duration.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, _ := cmd.Flags().GetBool("json")
			return runObject(cmd.OutOrStdout(), args[0], f, asJSON)
		},
	}
	cmd.Flags().StringVar(&f.program, "program", "", "program to run (required when the object has several)")
	addTypeFlag(cmd, &f.types)
	cmd.Flags().StringVar(&f.data, "data", "", "file with one input buffer")
	cmd.Flags().StringVar(&f.pcap, "pcap", "", "pcap or pcapng file: run every packet")
	cmd.Flags().StringVar(&f.mapInit, "map-init", "", "JSON file with initial map entries")
	cmd.Flags().StringVar(&f.pcapOut, "pcap-out", "", "write the output packet of every run to this pcapng file")
	cmd.Flags().StringVar(&f.engine, "engine", "", "execution engine: interp or jit (default: jit where available)")
	cmd.Flags().BoolVar(&f.unverified, "unverified", false, "skip the verifier; the program runs in the checked interpreter")
	cmd.Flags().Uint32Var(&f.repeat, "repeat", 1, "run each input this many times")
	cmd.Flags().StringArrayVar(&f.consts, "const", nil, "set a const volatile global before loading: NAME=VALUE, a number stored at the variable's size (repeatable)")
	return cmd
}

type runResult struct {
	Retval     uint32 `json:"retval"`
	DataOut    string `json:"data_out"`
	DurationNS int64  `json:"duration_ns"`
	// Error is set when the run was refused or stopped, as Linux's test run
	// refuses packets shorter than an Ethernet header.
	Error string `json:"error,omitempty"`
}

type mapEntry struct {
	Key    string   `json:"key,omitempty"`
	Value  string   `json:"value,omitempty"`
	Values []string `json:"values,omitempty"`
}

type runOutput struct {
	// TypeSource says where Type came from: "section", "section prefix"
	// or "option" (--type).
	TypeSource string `json:"type_source"`

	Program string                `json:"program"`
	Type    string                `json:"type"`
	Engine  string                `json:"engine"`
	Runs    []runResult           `json:"runs"`
	Maps    map[string][]mapEntry `json:"maps"`
	Printk  []string              `json:"printk"`

	arrays map[string]bool // array maps, whose zero entries the table hides
}

func runObject(out io.Writer, path string, f runFlags, asJSON bool) error {
	if f.data != "" && f.pcap != "" {
		return errors.New("--data and --pcap exclude each other")
	}
	topts, err := typeOptions(f.types)
	if err != nil {
		return err
	}
	spec, err := loadSpecFor(path, f.program, topts)
	if err != nil {
		return err
	}
	if err := setConstants(spec, f.consts); err != nil {
		return err
	}
	coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: f.engine, Unverified: f.unverified,
		ProgramType: topts.ProgramType, ProgramTypes: topts.ProgramTypes})
	if err != nil {
		return typeAdvice(err)
	}
	defer coll.Close()

	prog, err := pickProgram(coll, f.program)
	if err != nil {
		return err
	}
	if f.mapInit != "" {
		if err := initMaps(coll, f.mapInit); err != nil {
			return err
		}
	}
	inputs, err := readInputs(f)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	res := runOutput{Program: prog.Name(), Type: prog.Type(), Engine: prog.Engine(), Runs: []runResult{}}
	if _, source, err := bpfhost.ProgramType(spec.Program(prog.Name()), topts); err == nil {
		res.TypeSource = string(source)
	}
	for i, in := range inputs {
		opts := &bpfhost.RunOptions{Data: in, DataOut: []byte{}, Repeat: f.repeat}
		ret, err := prog.Run(opts)
		if err != nil {
			if len(inputs) == 1 {
				return err
			}
			// Keep going, as a packet path would: the run is reported.
			res.Runs = append(res.Runs, runResult{Error: fmt.Sprintf("packet %d: %v", i+1, err)})
			continue
		}
		res.Runs = append(res.Runs, runResult{Retval: ret, DataOut: hex.EncodeToString(opts.DataOut), DurationNS: opts.Duration.Nanoseconds()})
	}
	if f.pcapOut != "" {
		if err := writeRunPcap(f.pcapOut, res.Runs); err != nil {
			return err
		}
	}
	if res.Maps, err = dumpMaps(coll); err != nil {
		return err
	}
	res.arrays = map[string]bool{}
	for name, m := range coll.Maps {
		if t := m.Type(); t == maps.Array || t == maps.PerCPUArray {
			res.arrays[name] = true
		}
	}
	res.Printk = coll.Printk()
	if res.Printk == nil {
		res.Printk = []string{}
	}
	if asJSON {
		return json.NewEncoder(out).Encode(res)
	}
	printRun(out, res)
	return nil
}

func pickProgram(coll *bpfhost.Collection, name string) (*bpfhost.Program, error) {
	if name != "" {
		p, ok := coll.Programs[name]
		if !ok {
			return nil, fmt.Errorf("no program %q (have %s)", name, strings.Join(programNames(coll), ", "))
		}
		return p, nil
	}
	if len(coll.Programs) == 1 {
		for _, p := range coll.Programs {
			return p, nil
		}
	}
	return nil, fmt.Errorf("--program is required: the object has %s", strings.Join(programNames(coll), ", "))
}

func programNames(coll *bpfhost.Collection) []string {
	var names []string
	for n := range coll.Programs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func readInputs(f runFlags) ([][]byte, error) {
	switch {
	case f.data != "":
		b, err := os.ReadFile(f.data)
		if err != nil {
			return nil, err
		}
		return [][]byte{b}, nil
	case f.pcap != "":
		return readPcap(f.pcap)
	}
	return [][]byte{{}}, nil
}

func readPcap(path string) ([][]byte, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	var magic [4]byte
	if _, err := io.ReadFull(file, magic[:]); err != nil {
		return nil, fmt.Errorf("%s: not a pcap file: %w", path, err)
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	var next func() ([]byte, error)
	if string(magic[:]) == "\x0a\x0d\x0d\x0a" {
		r, err := pcapgo.NewNgReader(file, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		next = func() ([]byte, error) { d, _, err := r.ReadPacketData(); return d, err }
	} else {
		r, err := pcapgo.NewReader(file)
		if err != nil {
			return nil, fmt.Errorf("%s: not a pcap or pcapng file: %w", path, err)
		}
		next = func() ([]byte, error) { d, _, err := r.ReadPacketData(); return d, err }
	}
	var pkts [][]byte
	for {
		d, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: packet %d: %w", path, len(pkts)+1, err)
		}
		pkts = append(pkts, append([]byte(nil), d...))
	}
	return pkts, nil
}

func initMaps(coll *bpfhost.Collection, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	var init map[string][]mapEntry
	if err := json.Unmarshal(b, &init); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("%s: %w", path, err)}
	}
	for name, entries := range init {
		m, ok := coll.Maps[name]
		if !ok {
			return fmt.Errorf("%s: no map %q in the object", path, name)
		}
		for i, e := range entries {
			k, err := hex.DecodeString(e.Key)
			if err != nil {
				return fmt.Errorf("%s: map %q entry %d: key: %w", path, name, i, err)
			}
			var v []byte
			if e.Values != nil {
				for _, s := range e.Values {
					part, err := hex.DecodeString(s)
					if err != nil {
						return fmt.Errorf("%s: map %q entry %d: values: %w", path, name, i, err)
					}
					pad := (len(part) + 7) &^ 7
					v = append(v, append(part, make([]byte, pad-len(part))...)...)
				}
			} else if v, err = hex.DecodeString(e.Value); err != nil {
				return fmt.Errorf("%s: map %q entry %d: value: %w", path, name, i, err)
			}
			var key any = k
			if len(k) == 0 {
				key = nil
			}
			if err := m.Update(key, v, bpfhost.UpdateAny); err != nil {
				return fmt.Errorf("%s: entry %d: %w", path, i, err)
			}
		}
	}
	return nil
}

// dumpMaps lists every map's contents: key/value pairs in iteration order,
// per-CPU values per slot, and the pending records of ring buffers.
func dumpMaps(coll *bpfhost.Collection) (map[string][]mapEntry, error) {
	out := map[string][]mapEntry{}
	for name, m := range coll.Maps {
		entries := []mapEntry{}
		switch m.Type() {
		case maps.RingBuf:
			rb := m.Unwrap().(*maps.RingBufMap)
			for {
				rec, err := rb.Read(time.Now())
				if err != nil {
					break
				}
				entries = append(entries, mapEntry{Value: hex.EncodeToString(rec)})
			}
		case maps.Queue, maps.Stack, maps.BloomFilter, maps.PerfEventArray:
			// No keys to walk; queues and stacks are not drained.
		default:
			it := m.Iterate()
			var k, v []byte
			for it.Next(&k, &v) {
				e := mapEntry{Key: hex.EncodeToString(k)}
				if m.Type().PerCPU() {
					stride := (int(m.ValueSize()) + 7) &^ 7
					for s := 0; s+stride <= len(v); s += stride {
						e.Values = append(e.Values, hex.EncodeToString(v[s:s+int(m.ValueSize())]))
					}
				} else {
					e.Value = hex.EncodeToString(v)
				}
				entries = append(entries, e)
			}
			if err := it.Err(); err != nil {
				return nil, err
			}
		}
		out[name] = entries
	}
	return out, nil
}

var xdpVerdicts = []string{"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"}

func verdict(progType string, ret uint32) string {
	switch progType {
	case "xdp":
		if int(ret) < len(xdpVerdicts) {
			return xdpVerdicts[ret]
		}
	case "sched_cls", "sched_act":
		names := map[int32]string{-1: "TC_ACT_UNSPEC", 0: "TC_ACT_OK", 1: "TC_ACT_RECLASSIFY", 2: "TC_ACT_SHOT", 3: "TC_ACT_PIPE", 4: "TC_ACT_STOLEN", 5: "TC_ACT_QUEUED", 6: "TC_ACT_REPEAT", 7: "TC_ACT_REDIRECT"}
		if n, ok := names[int32(ret)]; ok {
			return n
		}
	}
	return fmt.Sprint(ret)
}

func printRun(out io.Writer, res runOutput) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "program %s (%s, %s)\n\n", res.Program, describeType(res.Type, bpfhost.TypeSource(res.TypeSource)), res.Engine)
	fmt.Fprintln(tw, "RUN\tRETVAL\tVERDICT\tBYTES OUT\tDURATION")
	var refused []string
	for i, r := range res.Runs {
		if r.Error != "" {
			fmt.Fprintf(tw, "%d\t-\t(error)\t-\t-\n", i+1)
			refused = append(refused, r.Error)
			continue
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%d\t%v\n", i+1, r.Retval, verdict(res.Type, r.Retval), len(r.DataOut)/2, time.Duration(r.DurationNS))
	}
	for _, e := range refused {
		fmt.Fprintf(tw, "error: %s\n", e)
	}
	names := make([]string, 0, len(res.Maps))
	for n := range res.Maps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		entries := res.Maps[n]
		fmt.Fprintf(tw, "\nmap %s: %d entries", n, len(entries))
		if res.arrays[n] {
			var shown []mapEntry
			for _, e := range entries {
				if !zeroEntry(e) {
					shown = append(shown, e)
				}
			}
			if hidden := len(entries) - len(shown); hidden > 0 {
				fmt.Fprintf(tw, " (%d all zero, not shown)", hidden)
			}
			entries = shown
		}
		fmt.Fprintln(tw)
		for _, e := range entries {
			switch {
			case e.Values != nil:
				fmt.Fprintf(tw, "  %s\t%s\n", e.Key, strings.Join(e.Values, " "))
			default:
				fmt.Fprintf(tw, "  %s\t%s\n", e.Key, e.Value)
			}
		}
	}
	if len(res.Printk) > 0 {
		fmt.Fprintln(tw, "\nprintk:")
		for _, l := range res.Printk {
			fmt.Fprintf(tw, "  %s\n", l)
		}
	}
	tw.Flush()
}

func zeroEntry(e mapEntry) bool {
	for _, v := range append([]string{e.Value}, e.Values...) {
		if strings.Trim(v, "0") != "" {
			return false
		}
	}
	return true
}

// setConstants applies --const NAME=VALUE: VALUE is a decimal or 0x
// number, encoded in the host's byte order at the variable's size.
func setConstants(spec *bpfhost.CollectionSpec, consts []string) error {
	for _, c := range consts {
		name, val, ok := strings.Cut(c, "=")
		if !ok {
			return fmt.Errorf("--const %q: want NAME=VALUE", c)
		}
		v := spec.Variable(name)
		if v == nil {
			return fmt.Errorf("--const %q: no global variable %q in the object", c, name)
		}
		n, err := strconv.ParseInt(val, 0, 64)
		if err != nil {
			u, uerr := strconv.ParseUint(val, 0, 64)
			if uerr != nil {
				return fmt.Errorf("--const %q: %q is not a number", c, val)
			}
			n = int64(u)
		}
		if v.Size > 8 {
			return fmt.Errorf("--const %q: %s is %d bytes; only numbers of up to 8 bytes can be set here", c, name, v.Size)
		}
		b := make([]byte, 8)
		binary.NativeEndian.PutUint64(b, uint64(n))
		if err := spec.SetConstant(name, b[:v.Size]); err != nil {
			return err
		}
	}
	return nil
}
