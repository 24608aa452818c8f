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

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/spf13/cobra"

	"github.com/bpfhost/bpfhost"
)

type runFlags struct {
	types                        []string // --type
	program, data, pcap, mapInit string
	ctxIn, ctxOut, dataOut       string
	pcapOut                      string
	repeat                       uint32
	consts                       []string
	loadFlags
	memoryLimit byteSize
	timeout     time.Duration
}

func newRunCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run OBJECT [--program NAME] [--data FILE | --pcap FILE]",
		Short: "Load an object and run one program on a buffer or on every packet of a pcap",
		Long: `Load an object and run one program the way BPF_PROG_TEST_RUN does.

Only the program and the programs its program arrays reach are verified and
loaded. --program may name a program of a section whose name begins with "?"
(SEC("?xdp"), which libbpf does not load unless asked): it is loaded, as the
type its section names after the "?"; without --program such programs are not
candidates. --pcap runs every packet in order, keeping map state between them
(Ethernet, raw IPv4/IPv6 and Linux cooked captures; see the README); --data
runs one buffer (no input runs once on an empty buffer where the type allows).
--ctx-in FILE starts from the context structure in FILE with Linux's rules for
what a caller may set: __sk_buff, xdp_md, struct bpf_flow_keys (flow_dissector:
flags only), struct bpf_sk_lookup (sk_lookup, which needs one), the u64
arguments of a raw_tracepoint or a syscall program's own buffer (as many bytes
as the file has). --ctx-out FILE and --data-out FILE write the context and the
packet after the run, as bpftool prog run does; a flow dissector's data out is
its struct bpf_flow_keys, and a syscall program's context out is its buffer
after the run (Linux writes that back over ctx_in).
--map-init takes a JSON object {"<map>": [{"key": "<hex>", "value": "<hex>"}]}
applied with BPF_ANY before the first run; for a per-CPU map, "value" sets
every CPU's slot to one value and "values" lists one value per slot.
--repeat N runs each input N times and reports the average duration.

After the runs, each map's entries are printed (ring buffers: their pending
records), streamed as they are walked: array entries that are all zero are
counted, not shown, and at most --max-entries entries per map are shown. With
--json, "maps" holds the entries shown per map and "maps_omitted" per map
{"zero": all-zero array entries, "more": entries past --max-entries}.

Exit status: 0 when every input ran, 1 when the program was rejected or
faulted, 2 for bad input (a packet Linux's test run refuses included).`,
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
	cmd.Flags().StringVar(&f.ctxIn, "ctx-in", "", "file with the context structure to start from (ctx_in: __sk_buff, xdp_md, bpf_flow_keys, bpf_sk_lookup, raw_tracepoint arguments, a syscall program's buffer)")
	cmd.Flags().StringVar(&f.ctxOut, "ctx-out", "", "file to write the context structure to after the run (ctx_out)")
	cmd.Flags().StringVar(&f.dataOut, "data-out", "", "file to write the packet to after the run (data_out)")
	cmd.Flags().StringVar(&f.pcapOut, "pcap-out", "", "write the output packet of every run to this pcapng file")
	cmd.Flags().StringVar(&f.mapInit, "map-init", "", "JSON file with initial map entries (per-CPU: one \"value\" for every CPU, or \"values\" per CPU)")
	addLoadFlags(cmd.Flags(), &f.loadFlags)
	cmd.Flags().Uint32Var(&f.repeat, "repeat", 1, "run each input this many times")
	memoryLimitFlag(cmd.Flags(), &f.memoryLimit)
	cmd.Flags().DurationVar(&f.timeout, "timeout", defaultTimeout, "stop a run that takes longer (each input, with its repeats; 0: no deadline)")
	cmd.Flags().StringArrayVar(&f.consts, "const", nil, "set a const volatile global before loading: NAME=VALUE, a number that fits the variable's size (repeatable)")
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
	// Program names the entry program of a devmap or cpumap entry, in
	// --map-init only (see entryProgram).
	Program string `json:"program,omitempty"`
}

type runOutput struct {
	// TypeSource says where Type came from: "section", "section prefix"
	// or "option" (--type).
	TypeSource string `json:"type_source"`

	Program string         `json:"program"`
	Type    string         `json:"type"`
	Engine  bpfhost.Engine `json:"engine"`
	Runs    []runResult    `json:"runs"`
	Printk  []string       `json:"printk"`
	// Maps and MapsOmitted are written by writeRunJSON as the maps are
	// walked; they are here for readers of the document.
	Maps        map[string][]mapEntry `json:"maps"`
	MapsOmitted map[string]mapOmitted `json:"maps_omitted"`
	// Error says why the command failed although it ran: packets refused
	// or a program that faulted.
	Error string `json:"error,omitempty"`
}

func runObject(out io.Writer, path string, f runFlags, asJSON bool) error {
	if f.data != "" && f.pcap != "" {
		return badInput(errors.New("--data and --pcap exclude each other"))
	}
	if f.pcap != "" && (f.ctxOut != "" || f.dataOut != "") {
		return badInput(errors.New("--ctx-out and --data-out take one run: use --data, not --pcap"))
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
		return badInput(err)
	}
	name, err := pickProgram(spec, f.program)
	if err != nil {
		return badInput(err)
	}
	copts := f.collectionOptions()
	copts.Programs, copts.ProgramType, copts.ProgramTypes = []string{name}, topts.ProgramType, topts.ProgramTypes
	copts.MemoryLimit = int64(f.memoryLimit)
	coll, err := bpfhost.NewCollection(spec, copts)
	if err != nil {
		return explainLimit(typeAdvice(err))
	}
	defer coll.Close()
	prog := coll.Programs[name]
	if f.mapInit != "" {
		if err := initMaps(coll, f.mapInit); err != nil {
			return badInput(err)
		}
	}
	inputs, err := readInputs(f)
	if err != nil {
		return badInput(err)
	}
	var ctxIn []byte
	if f.ctxIn != "" {
		if ctxIn, err = readContext(f.ctxIn, prog); err != nil {
			return badInput(err)
		}
	}
	res := runOutput{Program: prog.Name(), Type: prog.Type(), Engine: prog.Engine(), Runs: []runResult{}}
	if _, source, err := bpfhost.ProgramType(spec.Program(prog.Name()), topts); err == nil {
		res.TypeSource = string(source)
	}
	refused, faulted := 0, 0
	for i, in := range inputs {
		opts := &bpfhost.RunOptions{Data: in, DataOut: []byte{}, Repeat: f.repeat}
		var ctxOut []byte
		if ctxIn != nil {
			opts.Context = ctxIn
		}
		if f.ctxOut != "" {
			opts.ContextOut = &ctxOut
		}
		ret, err := runWithTimeout(prog, opts, f.timeout)
		if err != nil {
			if len(inputs) == 1 {
				if errors.Is(err, bpfhost.ErrInvalid) || errors.Is(err, bpfhost.ErrNotSupported) {
					return badInput(err)
				}
				return failed(err)
			}
			// Keep going, as a packet path would: the run is reported.
			if errors.Is(err, bpfhost.ErrInvalid) || errors.Is(err, bpfhost.ErrNotSupported) {
				refused++
			} else {
				faulted++
			}
			res.Runs = append(res.Runs, runResult{Error: fmt.Sprintf("packet %d: %v", i+1, err)})
			continue
		}
		res.Runs = append(res.Runs, runResult{Retval: ret, DataOut: hex.EncodeToString(opts.DataOut), DurationNS: opts.Duration.Nanoseconds()})
		if err := writeOutputs(f, opts.DataOut, ctxOut); err != nil {
			return badInput(err)
		}
	}
	if f.pcapOut != "" {
		if err := writeRunPcap(f.pcapOut, res.Runs); err != nil {
			return err
		}
	}
	res.Printk = coll.Printk()
	if res.Printk == nil {
		res.Printk = []string{}
	}
	var runErr error
	switch {
	case faulted > 0:
		runErr = &exitError{code: exitFailed, reported: asJSON, err: fmt.Errorf("the program failed on %s of %d", plural(faulted, "packet"), len(inputs))}
	case refused > 0:
		runErr = &exitError{code: exitUsage, reported: asJSON, err: fmt.Errorf("%s of %d refused", plural(refused, "packet"), len(inputs))}
	}
	if runErr != nil {
		res.Error = runErr.Error()
	}
	if asJSON {
		if err := writeRunJSON(out, res, coll, f.maxEntries); err != nil {
			return err
		}
		return runErr
	}
	printRun(out, res)
	if err := printMaps(out, coll, f.maxEntries); err != nil {
		return err
	}
	printPrintk(out, res.Printk)
	return runErr
}

// readContext reads --ctx-in: the context structure of the program's type,
// zero-extended when shorter, as Linux's test run takes ctx_in (longer is
// accepted only if the extra bytes are zero).
func readContext(path string, prog *bpfhost.Program) ([]byte, error) {
	b, err := readFileLimit(path, inputFileLimit)
	if err != nil {
		return nil, err
	}
	size, fixed := prog.TestRunContextSize()
	if size == 0 {
		return nil, fmt.Errorf("--ctx-in: %s programs have no context to start from", prog.Type())
	}
	if !fixed {
		// raw_tracepoint arguments, a syscall program's buffer: the
		// file's size is the context's.
		if len(b) > size {
			return nil, fmt.Errorf("--ctx-in %s: %d bytes, but a %s context has at most %d", path, len(b), prog.Type(), size)
		}
		return b, nil
	}
	if len(b) > size {
		for _, c := range b[size:] {
			if c != 0 {
				return nil, fmt.Errorf("--ctx-in %s: %d bytes, but the %s context has %d (the extra bytes must be zero)", path, len(b), prog.Type(), size)
			}
		}
		b = b[:size]
	}
	return append(b, make([]byte, size-len(b))...), nil
}

// writeOutputs writes --data-out and --ctx-out after a run.
func writeOutputs(f runFlags, dataOut, ctxOut []byte) error {
	if f.dataOut != "" {
		if err := os.WriteFile(f.dataOut, dataOut, 0o644); err != nil {
			return err
		}
	}
	if f.ctxOut != "" {
		if err := os.WriteFile(f.ctxOut, ctxOut, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// plural returns "1 packet", "2 packets", "0 entries".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// pickProgram chooses the program to run: the one named, whatever its
// autoload, or the object's only program loaded automatically (programs of
// "?" sections are not: see autoload.go).
func pickProgram(spec *bpfhost.CollectionSpec, name string) (string, error) {
	var names, auto []string
	for _, p := range spec.Programs {
		names = append(names, p.Name)
		if !p.NoAutoload {
			auto = append(auto, p.Name)
		}
	}
	sort.Strings(names)
	sort.Strings(auto)
	switch {
	case len(names) == 0:
		return "", errors.New("the object has no programs to run (functions in .text are not programs)")
	case name != "":
		if spec.Program(name) == nil {
			return "", fmt.Errorf("no program %q (the object has %s)", name, strings.Join(names, ", "))
		}
		return name, nil
	case len(auto) == 1:
		return auto[0], nil
	case len(auto) == 0:
		return "", fmt.Errorf("--program is required: every program of the object is in a \"?\" section, not loaded automatically (as libbpf): %s", strings.Join(names, ", "))
	}
	msg := "--program is required: the object has " + strings.Join(auto, ", ")
	if skip := notAutoloaded(spec); len(skip) > 0 {
		msg += " (and, in \"?\" sections, " + strings.Join(skip, ", ") + ")"
	}
	return "", errors.New(msg)
}

func readInputs(f runFlags) ([][]byte, error) {
	switch {
	case f.data != "":
		b, err := readFileLimit(f.data, inputFileLimit)
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
	var next func() ([]byte, layers.LinkType, error)
	if string(magic[:]) == "\x0a\x0d\x0d\x0a" {
		r, err := pcapgo.NewNgReader(file, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		next = func() ([]byte, layers.LinkType, error) {
			d, ci, err := r.ReadPacketData()
			if err != nil {
				return nil, 0, err
			}
			intf, err := r.Interface(ci.InterfaceIndex)
			if err != nil {
				return nil, 0, err
			}
			return d, intf.LinkType, nil
		}
	} else {
		r, err := pcapgo.NewReader(file)
		if err != nil {
			return nil, fmt.Errorf("%s: not a pcap or pcapng file: %w", path, err)
		}
		next = func() ([]byte, layers.LinkType, error) { d, _, err := r.ReadPacketData(); return d, r.LinkType(), err }
	}
	var pkts [][]byte
	for {
		d, lt, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: packet %d: %w", path, len(pkts)+1, err)
		}
		frame, err := toEthernet(d, lt)
		if err != nil {
			return nil, fmt.Errorf("%s: packet %d: %w", path, len(pkts)+1, err)
		}
		pkts = append(pkts, frame)
	}
	if len(pkts) == 0 {
		return nil, fmt.Errorf("%s: the capture has no packets", path)
	}
	return pkts, nil
}

// Link types bpfhost reads from captures (LINKTYPE_* of pcap-linktype(7)).
const (
	linkEthernet = 1
	linkRaw      = 101 // raw IPv4 or IPv6
	linkIPv4     = 228
	linkIPv6     = 229
	linkSLL      = 113 // Linux cooked capture v1 (tcpdump -i any)
	linkSLL2     = 276 // Linux cooked capture v2
)

// toEthernet returns a captured packet as the Ethernet frame a test run
// takes: Ethernet as is; raw IP behind an Ethernet header with zero
// addresses and the Ethertype of the IP version; Linux cooked captures with
// the protocol they record and the link-layer source address they record
// (zero for other lengths). Other link types are refused by name.
func toEthernet(d []byte, lt layers.LinkType) ([]byte, error) {
	frame := func(src []byte, proto uint16, payload []byte) []byte {
		f := make([]byte, 14, 14+len(payload))
		if len(src) == 6 {
			copy(f[6:12], src)
		}
		binary.BigEndian.PutUint16(f[12:], proto)
		return append(f, payload...)
	}
	switch lt {
	case linkEthernet:
		return append([]byte(nil), d...), nil
	case linkRaw, linkIPv4, linkIPv6, 12, 14: // 12 and 14: DLT_RAW on some systems
		if len(d) == 0 {
			return nil, errors.New("raw IP packet of 0 bytes")
		}
		switch d[0] >> 4 {
		case 4:
			return frame(nil, 0x0800, d), nil
		case 6:
			return frame(nil, 0x86dd, d), nil
		}
		return nil, fmt.Errorf("raw IP packet of IP version %d", d[0]>>4)
	case linkSLL:
		if len(d) < 16 {
			return nil, fmt.Errorf("Linux cooked packet of %s: the header has 16", plural(len(d), "byte"))
		}
		alen := int(binary.BigEndian.Uint16(d[4:]))
		return frame(d[6:6+min(alen, 8)], binary.BigEndian.Uint16(d[14:]), d[16:]), nil
	case linkSLL2:
		if len(d) < 20 {
			return nil, fmt.Errorf("Linux cooked v2 packet of %s: the header has 20", plural(len(d), "byte"))
		}
		return frame(d[12:12+min(int(d[11]), 8)], binary.BigEndian.Uint16(d[0:]), d[20:]), nil
	}
	return nil, fmt.Errorf("link type %d (%s) is not supported: bpfhost reads Ethernet, raw IPv4/IPv6 and Linux cooked (v1, v2) captures", int(lt), lt)
}

// initMaps fills coll's maps from the --map-init file at path.
func initMaps(coll *bpfhost.Collection, path string) error {
	return initMapsBy(path, func(name string) (*bpfhost.Map, *bpfhost.Collection, error) {
		m, ok := coll.Maps[name]
		if !ok {
			return nil, nil, fmt.Errorf("no map %q in the object", name)
		}
		return m, coll, nil
	})
}

// initMapsBy is initMaps with the file's map names looked up by lookup,
// which also gives the collection whose programs an entry may name.
func initMapsBy(path string, lookup func(name string) (*bpfhost.Map, *bpfhost.Collection, error)) error {
	b, err := readFileLimit(path, mapInitLimit)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	var init map[string][]mapEntry
	if err := json.Unmarshal(b, &init); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("%s: %w", path, err)}
	}
	for name, entries := range init {
		m, coll, err := lookup(name)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		for i, e := range entries {
			k, err := hex.DecodeString(e.Key)
			if err != nil {
				return fmt.Errorf("%s: map %q entry %d: key: %w", path, name, i, err)
			}
			v, err := entryValue(m, e)
			if err == nil {
				v, err = entryProgram(coll, m, e, v)
			}
			if err != nil {
				return fmt.Errorf("%s: map %q entry %d: %w", path, name, i, err)
			}
			var key any = k
			if len(k) == 0 {
				key = nil
			}
			if err := m.Update(key, v, bpfhost.UpdateAny); err != nil {
				return fmt.Errorf("%s: map %q entry %d: %w", path, name, i, err)
			}
		}
	}
	return nil
}

// entryValue encodes a --map-init entry's value. For a per-CPU map, "value"
// sets every CPU's slot and "values" lists one value per CPU (a list of one
// also sets every slot), so that one file works on any number of CPUs.
func entryValue(m *bpfhost.Map, e mapEntry) ([]byte, error) {
	parts := e.Values
	if parts == nil {
		if !m.Type().PerCPU() {
			v, err := hex.DecodeString(e.Value)
			if err != nil {
				return nil, fmt.Errorf("value: %w", err)
			}
			return v, nil
		}
		parts = []string{e.Value}
	} else if !m.Type().PerCPU() {
		return nil, errors.New(`"values" is for per-CPU maps; use "value"`)
	}
	slots := m.Slots()
	if len(parts) != 1 && len(parts) != slots {
		return nil, fmt.Errorf("%d values for %d CPUs: give one value for every CPU, or one per CPU", len(parts), slots)
	}
	var v []byte
	for s := 0; s < slots; s++ {
		part, err := hex.DecodeString(parts[s%len(parts)])
		if err != nil {
			return nil, fmt.Errorf("values: %w", err)
		}
		pad := (len(part) + 7) &^ 7
		v = append(v, append(part, make([]byte, pad-len(part))...)...)
	}
	return v, nil
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
	case "flow_dissector":
		names := map[int32]string{0: "BPF_OK", 2: "BPF_DROP", 129: "BPF_FLOW_DISSECTOR_CONTINUE"}
		if n, ok := names[int32(ret)]; ok {
			return n
		}
	case "sk_lookup":
		if ret <= 1 {
			return []string{"SK_DROP", "SK_PASS"}[ret]
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
	tw.Flush()
}

// printPrintk prints the lines programs printed, after the maps.
func printPrintk(out io.Writer, lines []string) {
	if len(lines) > 0 {
		fmt.Fprintln(out, "\nprintk:")
		for _, l := range lines {
			fmt.Fprintf(out, "  %s\n", l)
		}
	}
}

// setConstants applies --const NAME=VALUE: VALUE is a decimal or 0x
// number, encoded in the host's byte order at the variable's size; a value
// that does not fit the variable is an error.
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
		if v.Size > 8 || v.Size == 0 {
			return fmt.Errorf("--const %q: %s is %s; only numbers of 1 to 8 bytes can be set here", c, name, plural(int(v.Size), "byte"))
		}
		b, err := encodeConstant(val, v.Size, v.Type)
		if err != nil {
			return fmt.Errorf("--const %q: %s (%s, %s): %w", c, name, typeOrUnknown(v.Type), plural(int(v.Size), "byte"), err)
		}
		if err := spec.SetConstant(name, b); err != nil {
			return err
		}
	}
	return nil
}

func typeOrUnknown(t string) string {
	if t == "" {
		return "type unknown"
	}
	return t
}

// encodeConstant parses val and encodes it in size bytes, refusing a value
// outside the range of the C type (both the signed and the unsigned range
// when the type does not say which).
func encodeConstant(val string, size uint32, ctype string) ([]byte, error) {
	bits := 8 * size
	var u uint64
	if n, err := strconv.ParseInt(val, 0, 64); err == nil {
		min := int64(-1) << (bits - 1)
		switch {
		case n < 0 && signedness(ctype) > 0:
			return nil, fmt.Errorf("%d does not fit: the type is unsigned", n)
		case n < min:
			return nil, fmt.Errorf("%d does not fit (at least %d)", n, min)
		}
		u = uint64(n)
		if n >= 0 {
			if err := fitsUnsigned(u, bits, ctype); err != nil {
				return nil, err
			}
		}
	} else if n, err := strconv.ParseUint(val, 0, 64); err == nil {
		if err := fitsUnsigned(n, bits, ctype); err != nil {
			return nil, err
		}
		u = n
	} else if errors.Is(err, strconv.ErrRange) {
		return nil, fmt.Errorf("%s does not fit in 64 bits", val)
	} else {
		return nil, fmt.Errorf("%q is not a number", val)
	}
	b := make([]byte, 8)
	binary.NativeEndian.PutUint64(b, u)
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 { // big-endian host
		return b[8-size:], nil
	}
	return b[:size], nil
}

func fitsUnsigned(n uint64, bits uint32, ctype string) error {
	max := uint64(1)<<bits - 1
	if bits == 64 {
		max = ^uint64(0)
	}
	if signedness(ctype) < 0 {
		max >>= 1
	}
	if n > max {
		return fmt.Errorf("%d does not fit (at most %d)", n, max)
	}
	return nil
}

// signedness reads a C integer type's name: 1 unsigned, -1 signed, 0 not
// known (a typedef bpfhost does not know, or no BTF).
func signedness(ctype string) int {
	t := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(ctype, "const "), "volatile "))
	t = strings.TrimPrefix(t, "const ")
	switch {
	case strings.HasPrefix(t, "unsigned"), strings.HasPrefix(t, "__u"), strings.HasPrefix(t, "u"), strings.HasPrefix(t, "__be"), strings.HasPrefix(t, "__le"), t == "_Bool", t == "bool", t == "size_t":
		return 1
	case strings.HasPrefix(t, "signed"), strings.HasPrefix(t, "__s"), t == "int", t == "long", t == "long long", t == "short", t == "char",
		t == "s8", t == "s16", t == "s32", t == "s64", t == "int8_t", t == "int16_t", t == "int32_t", t == "int64_t":
		return -1
	}
	return 0
}
