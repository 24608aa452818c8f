package daemon

import (
	"io"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

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

// MetricsHandler serves the daemon's metrics in Prometheus's exposition
// format (client_golang's promhttp): the daemon's own metrics (see
// WriteMetrics) beside the Go runtime's and the process's.
func (d *Daemon) MetricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(d.collector(), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// WriteMetrics writes the daemon's own metrics in Prometheus's text
// format: runs and run time per program, entries and operations per map,
// map memory, verifier time, loads refused by reason.
func (d *Daemon) WriteMetrics(w io.Writer) error {
	reg := prometheus.NewRegistry()
	if err := reg.Register(d.collector()); err != nil {
		return err
	}
	families, err := reg.Gather()
	if err != nil {
		return err
	}
	for _, f := range families {
		if _, err := expfmt.MetricFamilyToText(w, f); err != nil {
			return err
		}
	}
	return nil
}

// The daemon's metrics. Their values are read from the registry when a
// scrape comes, so the data path counts with plain atomics and never
// touches a metrics library.
var (
	descProgRuns = prometheus.NewDesc("bpfhost_prog_runs_total", "Runs of a program.", []string{"id", "name"}, nil)
	descProgTime = prometheus.NewDesc("bpfhost_prog_run_seconds_total", "Time spent running a program.", []string{"id", "name"}, nil)
	descEntries  = prometheus.NewDesc("bpfhost_map_entries", "Entries of a map (arrays: all; maps over 65536 entries are not counted).", []string{"id", "name"}, nil)
	descMapOps   = prometheus.NewDesc("bpfhost_map_operations_total", "Operations on a map through the daemon.", []string{"id", "name", "op"}, nil)
	descMapMem   = prometheus.NewDesc("bpfhost_map_memory_bytes", "Memory all maps preallocate.", nil, nil)
	descVerifier = prometheus.NewDesc("bpfhost_verifier_seconds", "Time the verifier took per load.", nil, nil)
	descRefused  = prometheus.NewDesc("bpfhost_loads_refused_total", "Loads refused, by reason (the API's error code).", []string{"reason"}, nil)
)

// daemonCollector is a prometheus.Collector over a daemon's registry.
type daemonCollector struct{ d *Daemon }

// collector returns the Collector of d's own metrics.
func (d *Daemon) collector() prometheus.Collector { return daemonCollector{d} }

// Describe sends the descriptors of every metric the daemon reports.
func (c daemonCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, desc := range []*prometheus.Desc{descProgRuns, descProgTime, descEntries, descMapOps, descMapMem, descVerifier, descRefused} {
		ch <- desc
	}
}

// Collect reads the daemon's objects and counters at the time of a scrape.
func (c daemonCollector) Collect(ch chan<- prometheus.Metric) {
	d := c.d
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
	for _, p := range progs {
		id, name := strconv.FormatUint(uint64(p.id), 10), p.p.Name()
		ch <- prometheus.MustNewConstMetric(descProgRuns, prometheus.CounterValue, float64(p.runs.Load()), id, name)
		ch <- prometheus.MustNewConstMetric(descProgTime, prometheus.CounterValue, float64(p.runNs.Load())/1e9, id, name)
	}
	for _, m := range ms {
		id, name := strconv.FormatUint(uint64(m.id), 10), m.m.Name()
		if n, ok := countEntries(m); ok {
			ch <- prometheus.MustNewConstMetric(descEntries, prometheus.GaugeValue, float64(n), id, name)
		}
		for op := range numOps {
			ch <- prometheus.MustNewConstMetric(descMapOps, prometheus.CounterValue, float64(m.ops[op].Load()), id, name, opNames[op])
		}
	}
	ch <- prometheus.MustNewConstMetric(descMapMem, prometheus.GaugeValue, float64(memUsed))
	ch <- prometheus.MustNewConstSummary(descVerifier, d.metrics.verifies.Load(), float64(d.metrics.verifyNs.Load())/1e9, nil)
	for r, n := range refused {
		ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(n), r)
	}
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
