package daemon

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/bpfhost/bpfhost"
)

// Map operations counted per map, for metrics.
const (
	opLookup = iota
	opUpdate
	opDelete
	opNextKey
	opDump
	numOps
)

var opNames = [numOps]string{"lookup", "update", "delete", "getnext", "dump"}

// maxCountedEntries bounds the maps whose entries a scrape counts by
// walking them.
const maxCountedEntries = 1 << 16

// metrics are the daemon-wide counters.
type metrics struct {
	verifyNs, verifies atomic.Uint64
	refused            map[string]uint64 // loads refused, by error code; under Daemon.mu
}

// countOp counts a map operation.
func (m *mapObj) countOp(op int) { m.ops[op].Add(1) }

// MetricsHandler serves the daemon's metrics in Prometheus's text format.
// It writes the format itself, so the daemon needs no metrics library.
func (d *Daemon) MetricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		d.WriteMetrics(w)
	})
}

// label escapes a label value.
func label(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// WriteMetrics writes every metric in Prometheus's text format: runs and
// run time per program, entries and operations per map, verifier time,
// loads refused by reason.
func (d *Daemon) WriteMetrics(w io.Writer) error {
	d.mu.Lock()
	progs := make([]*prog, 0, len(d.progs))
	for _, p := range d.progs {
		progs = append(progs, p)
	}
	ms := make([]*mapObj, 0, len(d.maps))
	for _, m := range d.maps {
		ms = append(ms, m)
		d.hold(m.u)
	}
	refused := map[string]uint64{}
	for k, v := range d.metrics.refused {
		refused[k] = v
	}
	memUsed := d.memUsed
	d.mu.Unlock()
	defer func() {
		for _, m := range ms {
			d.release(m.u)
		}
	}()
	sort.Slice(progs, func(i, j int) bool { return progs[i].id < progs[j].id })
	sort.Slice(ms, func(i, j int) bool { return ms[i].id < ms[j].id })

	var b strings.Builder
	b.WriteString("# HELP bpfhost_prog_runs_total Runs of a program.\n# TYPE bpfhost_prog_runs_total counter\n")
	for _, p := range progs {
		fmt.Fprintf(&b, "bpfhost_prog_runs_total{id=\"%d\",name=\"%s\"} %d\n", p.id, label(p.p.Name()), p.runs.Load())
	}
	b.WriteString("# HELP bpfhost_prog_run_seconds_total Time spent running a program.\n# TYPE bpfhost_prog_run_seconds_total counter\n")
	for _, p := range progs {
		fmt.Fprintf(&b, "bpfhost_prog_run_seconds_total{id=\"%d\",name=\"%s\"} %g\n", p.id, label(p.p.Name()), float64(p.runNs.Load())/1e9)
	}
	b.WriteString("# HELP bpfhost_map_entries Entries of a map (arrays: all; maps over 65536 entries are not counted).\n# TYPE bpfhost_map_entries gauge\n")
	for _, m := range ms {
		if n, ok := countEntries(m); ok {
			fmt.Fprintf(&b, "bpfhost_map_entries{id=\"%d\",name=\"%s\"} %d\n", m.id, label(m.m.Name()), n)
		}
	}
	b.WriteString("# HELP bpfhost_map_operations_total Operations on a map through the daemon.\n# TYPE bpfhost_map_operations_total counter\n")
	for _, m := range ms {
		for op := range numOps {
			fmt.Fprintf(&b, "bpfhost_map_operations_total{id=\"%d\",name=\"%s\",op=\"%s\"} %d\n", m.id, label(m.m.Name()), opNames[op], m.ops[op].Load())
		}
	}
	fmt.Fprintf(&b, "# HELP bpfhost_map_memory_bytes Memory all maps preallocate.\n# TYPE bpfhost_map_memory_bytes gauge\nbpfhost_map_memory_bytes %d\n", memUsed)
	fmt.Fprintf(&b, "# HELP bpfhost_verifier_seconds Time the verifier took per load.\n# TYPE bpfhost_verifier_seconds summary\nbpfhost_verifier_seconds_sum %g\nbpfhost_verifier_seconds_count %d\n",
		float64(d.metrics.verifyNs.Load())/1e9, d.metrics.verifies.Load())
	b.WriteString("# HELP bpfhost_loads_refused_total Loads refused, by reason (the API's error code).\n# TYPE bpfhost_loads_refused_total counter\n")
	reasons := make([]string, 0, len(refused))
	for r := range refused {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(&b, "bpfhost_loads_refused_total{reason=\"%s\"} %d\n", label(r), refused[r])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// countEntries counts a map's entries, if that is cheap enough.
func countEntries(m *mapObj) (int, bool) {
	switch t := m.m.Type(); {
	case t == bpfhost.MapArray || t == bpfhost.MapPerCPUArray:
		return int(m.m.MaxEntries()), true
	case !persistable(t) || m.m.MaxEntries() > maxCountedEntries:
		return 0, false
	}
	n := 0
	var k, v []byte
	it := m.m.Iterate()
	for it.Next(&k, &v) {
		n++
	}
	return n, it.Err() == nil
}
