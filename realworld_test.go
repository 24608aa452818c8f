package bpfhost

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/verifier"
)

// The real-world corpus (../shared/realworld, see its README): objects
// other projects compiled, with the Linux verifier's verdict and the program
// type for each of their programs in expect.csv.
const (
	realworldDir      = "../shared/realworld"
	realworldBaseline = "testdata/realworld/baseline.csv"
	// realworldTimeout bounds one program's verification in the test; the
	// issue's goal is under a second each.
	realworldTimeout = 10 * time.Second
)

var updateRealworld = flag.Bool("realworld.update", false, "rewrite "+realworldBaseline+" with today's outcomes of TestRealWorld")

// knownWrongAccepts are programs the kernel rejects and bpfhost accepts,
// each with the reason that acceptance is safe. Any other wrong accept fails
// TestRealWorld: it may be an escape. Keys are "file section function".
var knownWrongAccepts = map[string]string{}

// realworldTypeFixes correct expect.csv's type where its loader gives the
// program another one, with the reason. Keys are "file section function".
var realworldTypeFixes = map[string]struct{ typ, reason string }{
	"linux/test_cgrp2_tc_kern.o filter filter": {"sched_cls", "samples/bpf's test_cgrp2_tc.sh loads it with tc " +
		"(sched_cls); it reads skb->data_end, which a socket filter may not, and Linux 6.18 rejects it as socket_filter"},
}

// realworldRow is one line of expect.csv.
type realworldRow struct {
	file, section, function, typ, expect string
}

func (r realworldRow) key() string { return r.file + " " + r.section + " " + r.function }

// Outcomes of one program of the corpus.
const (
	outcomeAccept    = "accept"     // verified and accepted
	outcomeReject    = "reject"     // verified and rejected
	outcomeTimeout   = "timeout"    // the verifier ran out of time
	outcomeLoadError = "load-error" // the object does not load
	outcomeMissing   = "missing"    // the object loads, but not this program
	outcomeNoType    = "bad-type"   // the type in expect.csv is unknown
	outcomeError     = "error"      // the verifier failed otherwise
)

func readRealworldExpect(t testing.TB, dir string) []realworldRow {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "expect.csv"))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s is absent: no real-world corpus to check", dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 2 || strings.Join(recs[0], ",") != "file,section,function,type,expect" {
		t.Fatalf("expect.csv: unexpected header %v", recs[0])
	}
	var rows []realworldRow
	for _, r := range recs[1:] {
		row := realworldRow{r[0], r[1], r[2], r[3], r[4]}
		if fix, ok := realworldTypeFixes[row.key()]; ok && dir == realworldDir {
			t.Logf("%s: verified as %s, not %s: %s", row.key(), fix.typ, row.typ, fix.reason)
			row.typ = fix.typ
		}
		rows = append(rows, row)
	}
	return rows
}

// realworldProgram finds a row's program in its object: by function name,
// else (old objects whose functions have no symbol of their own) as the only
// program of its section.
func realworldProgram(spec *CollectionSpec, r realworldRow) *ProgramSpec {
	if p := spec.Program(r.function); p != nil && p.Section == r.section {
		return p
	}
	var found *ProgramSpec
	for _, p := range spec.Programs {
		if p.Section == r.section {
			if found != nil {
				return nil
			}
			found = p
		}
	}
	return found
}

// realworldType is the type to verify a row's program as: the one its
// section gives when that is the type expect.csv names (which keeps the
// attach type the section implies), else the type expect.csv names.
func realworldType(ps *ProgramSpec, r realworldRow) (*platform.ProgramTypeInfo, bool) {
	want, ok := linux.ABI().ByName(r.typ)
	if !ok {
		return nil, false
	}
	if info, _, err := ProgramType(ps, nil); err == nil && info.Type == want.Type {
		return info, true
	}
	return want, true
}

// realworldResult is one program's outcome and what the verifier said.
type realworldResult struct {
	row      realworldRow
	outcome  string
	detail   string
	duration time.Duration
	insns    int
}

// runRealworld loads every object of the corpus and verifies each program.
func runRealworld(dir string, rows []realworldRow) (results []realworldResult, objects, loaded int) {
	specs := map[string]*CollectionSpec{}
	loadErrs := map[string]error{}
	for _, r := range rows {
		if _, done := specs[r.file]; done {
			continue
		}
		if _, done := loadErrs[r.file]; done {
			continue
		}
		objects++
		spec, err := loadRealworldObject(filepath.Join(dir, r.file))
		if err != nil {
			loadErrs[r.file] = err
			continue
		}
		specs[r.file] = spec
		loaded++
	}
	for _, r := range rows {
		res := realworldResult{row: r}
		spec := specs[r.file]
		var ps *ProgramSpec
		var info *platform.ProgramTypeInfo
		if spec == nil {
			res.outcome, res.detail = outcomeLoadError, loadErrs[r.file].Error()
		} else if ps = realworldProgram(spec, r); ps == nil {
			res.outcome = outcomeMissing
		} else if t, ok := realworldType(ps, r); !ok {
			res.outcome, res.detail = outcomeNoType, r.typ
		} else {
			info = t
		}
		if info != nil {
			opts := VerifierOptions(spec, ps, info)
			opts.Timeout = realworldTimeout
			start := time.Now()
			_, err := verifyNoPanic(ps, opts)
			res.duration, res.insns = time.Since(start), len(ps.Instructions)
			var ve *verifier.VerifierError
			switch {
			case err == nil:
				res.outcome = outcomeAccept
			case errors.As(err, &ve) && res.duration >= realworldTimeout:
				res.outcome, res.detail = outcomeTimeout, err.Error()
			case errors.As(err, &ve):
				res.outcome, res.detail = outcomeReject, err.Error()
			default:
				res.outcome, res.detail = outcomeError, err.Error()
			}
		}
		results = append(results, res)
	}
	return results, objects, loaded
}

// loadRealworldObject loads an object, turning a loader panic into an error
// so that one bad object cannot hide the others' counts.
func loadRealworldObject(path string) (spec *CollectionSpec, err error) {
	defer func() {
		if p := recover(); p != nil {
			spec, err = nil, fmt.Errorf("loader panicked: %v", p)
		}
	}()
	return LoadCollectionSpec(path)
}

func verifyNoPanic(ps *ProgramSpec, opts verifier.Options) (res *verifier.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("verifier panicked: %v", p)
		}
	}()
	return verifier.Verify(ps.Instructions, opts)
}

// TestRealWorld verifies every program of the real-world corpus as the type
// expect.csv gives and compares with the Linux verifier's verdict. It
// reports the counts, fails on any wrong accept not listed in
// knownWrongAccepts, and fails on a regression against the committed
// baseline: a program whose verdict matched the kernel's there and does not
// now (objects that do not load are counted and logged: the object
// package's test guards loading). Improvements are logged;
// -realworld.update records them.
//
//	go test -run TestRealWorld -v .
func TestRealWorld(t *testing.T) {
	rows := readRealworldExpect(t, realworldDir)
	results, objects, loaded := runRealworld(realworldDir, rows)

	counts := map[string]int{}
	var wrongAccepts, slow []string
	for _, res := range results {
		r := res.row
		category := realworldCategory(res)
		counts[category]++
		if category == categoryWrongAccept {
			if reason, ok := knownWrongAccepts[r.key()]; ok {
				t.Logf("known wrong accept %s: %s", r.key(), reason)
			} else {
				wrongAccepts = append(wrongAccepts, r.key())
			}
		}
		if res.duration > time.Second {
			slow = append(slow, fmt.Sprintf("%s: %v for %d instructions", r.key(), res.duration.Round(time.Millisecond), res.insns))
		}
	}
	t.Logf("objects: %d of %d load", loaded, objects)
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("%-45s %d", k, counts[k])
	}
	for _, s := range slow {
		t.Logf("over a second: %s", s)
	}
	if testing.Verbose() {
		for _, res := range results {
			if res.outcome != res.row.expect {
				t.Logf("%s: %s, kernel %ss: %s", res.row.key(), res.outcome, res.row.expect, firstLine(res.detail))
			}
		}
	}
	for _, w := range wrongAccepts {
		t.Errorf("WRONG ACCEPT (the kernel rejects it; a possible escape): %s", w)
	}

	if *updateRealworld {
		writeRealworldBaseline(t, results)
		return
	}
	baseline := readRealworldBaseline(t)
	improved, unloaded := 0, 0
	for _, res := range results {
		r := res.row
		was, ok := baseline[r.key()]
		switch {
		case !ok:
			t.Logf("%s: not in the baseline (run with -realworld.update)", r.key())
		case was == r.expect && res.outcome == outcomeLoadError:
			// The object package's own test (object/realworld_test.go)
			// guards loading; here the baseline guards verdicts.
			unloaded++
		case was == r.expect && res.outcome != r.expect:
			t.Errorf("REGRESSION %s: was %s as the kernel, now %s: %s", r.key(), was, res.outcome, firstLine(res.detail))
		case was != r.expect && res.outcome == r.expect:
			improved++
		}
	}
	if unloaded > 0 {
		t.Logf("%d programs that matched the kernel in the baseline are in objects that do not load here", unloaded)
	}
	if improved > 0 {
		t.Logf("%d programs now match the kernel that did not in the baseline: record them with -realworld.update", improved)
	}
}

const categoryWrongAccept = "WRONG ACCEPT"

// realworldCategory is what a result counts as beside the kernel's verdict.
func realworldCategory(res realworldResult) string {
	switch r := res.row; {
	case res.outcome == outcomeAccept && r.expect == "accept":
		return "accept as expected"
	case res.outcome == outcomeReject && r.expect == "reject":
		return "reject as expected"
	case res.outcome == outcomeAccept:
		return categoryWrongAccept
	case r.expect == "reject":
		return "not verified, kernel rejects (" + res.outcome + ")"
	default:
		return "wrong reject (" + res.outcome + ")"
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// The baseline holds each program's outcome: file,section,function,outcome.
func readRealworldBaseline(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(realworldBaseline)
	if err != nil {
		t.Fatalf("%v (create it with -realworld.update)", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, r := range recs[1:] {
		if len(r) != 4 {
			t.Fatalf("%s: bad line %v", realworldBaseline, r)
		}
		m[realworldRow{file: r[0], section: r[1], function: r[2]}.key()] = r[3]
	}
	return m
}

func writeRealworldBaseline(t *testing.T, results []realworldResult) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(realworldBaseline), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(realworldBaseline)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"file", "section", "function", "outcome"})
	for _, res := range results {
		_ = w.Write([]string{res.row.file, res.row.section, res.row.function, res.outcome})
	}
	w.Flush()
	if err := errors.Join(w.Error(), f.Close()); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", realworldBaseline)
}

// TestRealWorldHarness checks TestRealWorld's loading, typing and counting
// on a small corpus of this repository's own (testdata/types/expect.csv),
// with one row for each way a result can count.
func TestRealWorldHarness(t *testing.T) {
	dir := "testdata/types"
	results, objects, loaded := runRealworld(dir, readRealworldExpect(t, dir))
	if objects != 2 || loaded != 1 {
		t.Errorf("objects %d loaded %d, want 2 and 1", objects, loaded)
	}
	want := []string{
		"accept as expected",                     // xdp_ttl as xdp
		"accept as expected",                     // classifier as sched_cls
		"accept as expected",                     // tail-3 as sched_cls
		"reject as expected",                     // from_netdev as xdp: xdp_md has no mark
		categoryWrongAccept,                      // cls_main, said to be rejected
		"wrong reject (reject)",                  // xdp_ttl as socket_filter
		"wrong reject (missing)",                 // no such program
		"wrong reject (bad-type)",                // no such type
		"wrong reject (load-error)",              // no such object
		"not verified, kernel rejects (missing)", // no such program
	}
	for i, res := range results {
		if got := realworldCategory(res); i >= len(want) || got != want[i] {
			t.Errorf("row %d %s: %q (%s), want %v", i+1, res.row.key(), got, res.detail, want[i:min(i+1, len(want))])
		}
	}
	if len(results) != len(want) {
		t.Errorf("%d results, want %d", len(results), len(want))
	}
}
