package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/hooks/xdp"
)

type attachFlags struct {
	program, dev, peer, mapInit, pcapOut string
	workers                              int
	workerCPUs                           []int
	duration                             time.Duration
	lowLatency, keepOffloads, flowHash   bool
	loadFlags
}

func newAttachCommand() *cobra.Command {
	attach := &cobra.Command{
		Use:   "attach",
		Short: "Attach a program to a live hook until interrupted",
	}
	var f attachFlags
	cmd := &cobra.Command{
		Use:   "xdp OBJECT --program NAME --dev IF [--peer IF2]",
		Short: "Run an XDP program on the frames of live interfaces",
		Long: `Run an XDP program on every frame an interface receives, in the foreground.
Every program of OBJECT is loaded, except those of sections whose names begin
with "?" (SEC("?xdp"), which libbpf does not load unless asked) that --program
does not name.

With --peer, bpfhost is a bump in the wire between two interfaces: XDP_PASS
forwards a frame to the other interface, XDP_TX sends it back out of the one it
came from, XDP_DROP drops it, XDP_ABORTED drops it and prints a trace line, and
XDP_REDIRECT sends it to --dev or --peer as bpf_redirect or a devmap entry says
(running the entry's xdp/devmap program first, if it names one), or hands it to
the worker serving a cpumap entry's CPU, which runs the entry's xdp/cpumap
program and forwards what it passes. Entry programs are named by program ID
where Linux takes a file descriptor (struct bpf_devmap_val, bpf_cpumap_val);
in --map-init, an entry names one of the object's programs by name instead:
{"ports": [{"key": "<hex>", "value": "<ifindex or qsize: 4 bytes hex>",
"program": "NAME"}]}, a SEC("xdp/devmap") or SEC("xdp/cpumap") program as the
map needs. An entry program cannot be the attached program, as in Linux.
Nothing else connects the two interfaces: they should have no addresses.

Frames up to the MTU run (a jumbo MTU too), as in XDP: bpfhost turns off GRO
and LRO on the interfaces while attached (printed on stderr; turned on again at
detach, or left alone with --keep-offloads), since they merge received segments
into larger frames. The aggregates a local sender's TSO/GSO hands over whole
(the far end of a veth pair) are cut into the segments its NIC would have sent
(TCP and UDP over IPv4/IPv6); with --low-latency, or for anything else over
the MTU, frames are dropped and counted as oversize, with one trace line
(ethtool -K IF tso off gso off on the sender avoids them).

Without --peer (monitor mode) the program only watches: it sees every frame
the interface receives (not those the host sends) and updates its maps,
verdicts are counted, and nothing is forwarded or blocked: the kernel delivers
every frame as usual, also through a Linux bridge the interface is a port of.

"attached" is printed on stderr once the sockets receive. On SIGINT or SIGTERM,
or after --duration, the program is detached and the per-verdict counts and
the final maps are printed. If an interface goes away while attached (deleted,
or its namespace removed), bpfhost detaches, prints the same and exits with
status 1. Needs CAP_NET_RAW, and CAP_NET_ADMIN where GRO or LRO is on (to turn
them off).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, _ := cmd.Flags().GetBool("json")
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return attachXDP(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], f, asJSON)
		},
	}
	cmd.Flags().StringVar(&f.program, "program", "", "program to attach (required when the object has several xdp programs)")
	cmd.Flags().StringVar(&f.dev, "dev", "", "interface to attach to (required)")
	cmd.Flags().StringVar(&f.peer, "peer", "", "second interface: bridge mode (without it: monitor mode)")
	cmd.Flags().StringVar(&f.mapInit, "map-init", "", "JSON file with initial map entries, as for run")
	cmd.Flags().StringVar(&f.pcapOut, "pcap-out", "", "write every frame that leaves bpfhost to this pcapng file, with its interface")
	addLoadFlags(cmd.Flags(), &f.loadFlags)
	cmd.Flags().IntVar(&f.workers, "workers", 0, "workers (fanout sockets per interface); default: the number of CPUs")
	cmd.Flags().IntSliceVar(&f.workerCPUs, "worker-cpus", nil, "pin worker w to the w-th CPU of this list, taken round (-1: not pinned); e.g. keep the worker of the CPU a NIC interrupts on another CPU")
	cmd.Flags().BoolVar(&f.lowLatency, "low-latency", false, "receive with TPACKET_V2 rings: each frame at once instead of up to 1 ms later, at more cost per frame under load")
	cmd.Flags().BoolVar(&f.flowHash, "flow-hash", false, "spread a single-queue interface's frames over the workers by flow hash instead of by receiving CPU (more workers busy when one CPU receives many flows; costs that CPU a flow dissection per frame)")
	cmd.Flags().BoolVar(&f.keepOffloads, "keep-offloads", false, "leave GRO and LRO on the interfaces as they are (frames over the MTU are dropped)")
	cmd.Flags().DurationVar(&f.duration, "duration", 0, "detach after this long (default: at SIGINT or SIGTERM)")
	_ = cmd.MarkFlagRequired("dev")
	attach.AddCommand(cmd)
	return attach
}

// attachOutput is the result of `attach xdp --json`.
type attachOutput struct {
	Program    string            `json:"program"`
	Type       string            `json:"type"`
	Engine     bpfhost.Engine    `json:"engine"`
	Mode       string            `json:"mode"`
	Interfaces []string          `json:"interfaces"`
	DurationNS int64             `json:"duration_ns"`
	Packets    uint64            `json:"packets"`
	Bytes      uint64            `json:"bytes"`
	Verdicts   map[string]uint64 `json:"verdicts"`
	Dropped    map[string]uint64 `json:"dropped"`
	Sent       uint64            `json:"sent"`
	// Segments counts the frames cut from a local sender's TSO/GSO
	// aggregates (each run as a frame of its own).
	Segments uint64 `json:"segments"`
	// DevMapVerdicts and CPUMapVerdicts count the verdicts of devmap and
	// cpumap entries' programs (absent when none ran).
	DevMapVerdicts map[string]uint64 `json:"devmap_verdicts,omitempty"`
	CPUMapVerdicts map[string]uint64 `json:"cpumap_verdicts,omitempty"`
	// Maps and MapsOmitted are as in run's JSON: the entries shown per
	// map and what was left out (all-zero array entries, past
	// --max-entries).
	Maps        map[string][]mapEntry `json:"maps"`
	MapsOmitted map[string]mapOmitted `json:"maps_omitted"`
	Printk      []string              `json:"printk"`
	// Error says why the link stopped before it was asked to (an
	// interface went away); the command then exits with status 1.
	Error string `json:"error,omitempty"`

	stats xdp.Stats
}

func attachXDP(ctx context.Context, out, errOut io.Writer, path string, f attachFlags, asJSON bool) error {
	if f.workers < 0 {
		return badInput(fmt.Errorf("--workers %d: want at least 1 (0: the number of CPUs)", f.workers))
	}
	if f.duration < 0 {
		return badInput(fmt.Errorf("--duration %v: want a positive duration", f.duration))
	}
	spec, err := bpfhost.LoadCollectionSpec(path)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	// Each worker runs its batches in an execution slot of its own.
	slots := 0
	if f.workers > runtime.GOMAXPROCS(0) {
		slots = f.workers
	}
	// Every program is loaded, as for libbpf, but those of "?" sections
	// only if --program names one (autoload.go).
	autoloadNamed(spec, f.program)
	noteSkipped(errOut, notAutoloaded(spec))
	copts := f.collectionOptions()
	copts.Slots = slots
	coll, err := bpfhost.NewCollection(spec, copts)
	if err != nil {
		return err
	}
	defer coll.Close()
	prog, err := xdpProgram(coll, f.program)
	if err != nil {
		return err
	}
	if f.mapInit != "" {
		if err := initMaps(coll, f.mapInit); err != nil {
			return err
		}
	}
	var errMu sync.Mutex
	opts := xdp.Options{Interface: f.dev, Peer: f.peer, Workers: f.workers, LowLatency: f.lowLatency,
		KeepOffloads: f.keepOffloads, FlowHash: f.flowHash, WorkerCPUs: f.workerCPUs,
		Trace: func(line string) {
			errMu.Lock()
			fmt.Fprintln(errOut, line)
			errMu.Unlock()
		}}
	var pcap *pcapOut
	if f.pcapOut != "" {
		names := []string{f.dev}
		if f.peer != "" {
			names = append(names, f.peer)
		}
		if pcap, err = newPcapOut(f.pcapOut, names); err != nil {
			return err
		}
		for id, name := range names {
			ni, err := net.InterfaceByName(name)
			if err != nil {
				pcap.close()
				return fmt.Errorf("--pcap-out: %w", err)
			}
			pcap.ids[ni.Index] = id
		}
		opts.Output = pcap.write
	}
	start := time.Now()
	link, err := xdp.Attach(prog, opts)
	if err != nil {
		if pcap != nil {
			pcap.close()
		}
		return err
	}
	errMu.Lock()
	for _, line := range link.Offloads() {
		fmt.Fprintln(errOut, line)
	}
	fmt.Fprintln(errOut, "attached")
	errMu.Unlock()
	if f.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.duration)
		defer cancel()
	}
	select {
	case <-ctx.Done():
	case <-link.Done(): // an interface went away
	}
	link.Close()
	elapsed := time.Since(start)
	if pcap != nil {
		if err := pcap.close(); err != nil {
			return err
		}
	}

	s := link.Stats()
	res := attachOutput{Program: prog.Name(), Type: prog.Type(), Engine: prog.Engine(), Mode: "monitor",
		Interfaces: link.Interfaces(), DurationNS: elapsed.Nanoseconds(), Packets: s.Packets, Bytes: s.Bytes,
		Verdicts: map[string]uint64{}, Dropped: map[string]uint64{"oversize": s.Oversize,
			"redirect_error": s.RedirectErrors, "tx_error": s.TXErrors, "invalid_action": s.Invalid.Packets,
			"cpumap_full": s.CPUMapDrops},
		Sent: s.Sent, Segments: s.Segments, stats: s}
	if f.peer != "" {
		res.Mode = "bridge"
	}
	for i, name := range xdp.ActionNames {
		res.Verdicts[name] = s.Verdicts[i].Packets
	}
	res.DevMapVerdicts, res.CPUMapVerdicts = entryVerdicts(s.DevMap), entryVerdicts(s.CPUMap)
	if asJSON {
		res.Maps, res.MapsOmitted = map[string][]mapEntry{}, map[string]mapOmitted{}
		for _, name := range mapNames(coll) {
			entries := []mapEntry{}
			om, err := walkMap(coll.Maps[name], f.maxEntries, func(e mapEntry) error {
				entries = append(entries, e)
				return nil
			})
			if err != nil {
				return err
			}
			res.Maps[name], res.MapsOmitted[name] = entries, om
		}
	}
	if res.Printk = coll.Printk(); res.Printk == nil {
		res.Printk = []string{}
	}
	linkErr := link.Err()
	if linkErr != nil {
		res.Error = linkErr.Error()
	}
	if asJSON {
		if err := json.NewEncoder(out).Encode(res); err != nil {
			return err
		}
	} else {
		printAttach(out, res)
		if err := printMaps(out, coll, f.maxEntries); err != nil {
			return err
		}
		printPrintk(out, res.Printk)
	}
	if linkErr != nil {
		// The counts and maps are printed; the JSON document has the error.
		return &exitError{code: exitFailed, err: linkErr, reported: true}
	}
	return nil
}

// entryVerdicts names the verdicts of entry programs by action, or is nil
// when none ran.
func entryVerdicts(v [5]xdp.VerdictStats) map[string]uint64 {
	m := map[string]uint64{}
	var total uint64
	for i, name := range xdp.ActionNames {
		m[name] = v[i].Packets
		total += v[i].Packets
	}
	if total == 0 {
		return nil
	}
	return m
}

// xdpProgram picks the program to attach: the one named, or the only one.
func xdpProgram(coll *bpfhost.Collection, name string) (*bpfhost.Program, error) {
	var names, attachable []string
	for n, p := range coll.Programs {
		names = append(names, n)
		if xdp.CheckProgram(p) == nil {
			attachable = append(attachable, n)
		}
	}
	sort.Strings(names)
	sort.Strings(attachable)
	if name == "" {
		switch len(attachable) {
		case 0:
			return nil, fmt.Errorf("the object has no xdp program to attach (it has %s)", strings.Join(names, ", "))
		case 1:
			name = attachable[0]
		default:
			return nil, fmt.Errorf("--program is required: the object has xdp programs %s", strings.Join(attachable, ", "))
		}
	}
	p, ok := coll.Programs[name]
	if !ok {
		return nil, fmt.Errorf("no program %q (have %s)", name, strings.Join(names, ", "))
	}
	if p.Type() != "xdp" {
		return nil, fmt.Errorf("program %q is a %s program: attach xdp needs an xdp program", name, p.Type())
	}
	return p, nil
}

func printAttach(out io.Writer, res attachOutput) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "program %s (%s, %s) on %s, %s mode, %v\n\n", res.Program, res.Type, res.Engine,
		strings.Join(res.Interfaces, " <-> "), res.Mode, time.Duration(res.DurationNS).Round(time.Millisecond))
	fmt.Fprintln(tw, "VERDICT\tPACKETS\tBYTES\tAVG RUN")
	for i, name := range xdp.ActionNames {
		v := res.stats.Verdicts[i]
		avg := "-"
		if v.Packets > 0 {
			avg = (v.Time / time.Duration(v.Packets)).String()
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", name, v.Packets, v.Bytes, avg)
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t\n", res.Packets, res.Bytes)
	var dropped []string
	for _, k := range []string{"oversize", "redirect_error", "tx_error", "invalid_action", "cpumap_full"} {
		if n := res.Dropped[k]; n > 0 {
			dropped = append(dropped, fmt.Sprintf("%s %d", k, n))
		}
	}
	if len(dropped) > 0 {
		fmt.Fprintf(tw, "\ndropped by bpfhost: %s\n", strings.Join(dropped, ", "))
	}
	if res.Segments > 0 {
		fmt.Fprintf(tw, "segments cut from TSO/GSO aggregates: %d\n", res.Segments)
	}
	if res.Mode == "bridge" {
		fmt.Fprintf(tw, "sent: %d\n", res.Sent)
	}
	tw.Flush()
}
