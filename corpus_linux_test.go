package bpfhost

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
)

// corpusTable counts, per row (a section kind, an object), how bpfhost's
// verdicts on a corpus of objects compare with the running kernel's: the
// table TestLibbpfTools and TestCilium print.
type corpusTable struct {
	rows map[string]*corpusRow
}

// corpusRow counts the verdicts of one row of a corpusTable: both accept,
// both refuse, bpfhost refuses what the kernel accepts (stricter), bpfhost
// accepts what the kernel refuses (looser), bpfhost cannot verify it (no
// type, no target), the kernel cannot load the program here (by reason).
type corpusRow struct {
	bothAccept, bothRefuse, stricter, looser, noVerify, noLoad int
	reasons                                                    map[string]int
}

func newCorpusTable() *corpusTable { return &corpusTable{rows: map[string]*corpusRow{}} }

func (c *corpusTable) row(name string) *corpusRow {
	r := c.rows[name]
	if r == nil {
		r = &corpusRow{reasons: map[string]int{}}
		c.rows[name] = r
	}
	return r
}

// record counts one program (named where) in row name: bpfhost's verdict bv
// ("accepts", "rejects", "cannot verify") and the kernel's kv ("accepts",
// "rejects", "cannot load", then for the reason why). A program bpfhost
// accepts and the kernel's verifier refuses fails the test.
func (c *corpusTable) record(t *testing.T, name, where, bv, kv, why string) {
	r := c.row(name)
	switch {
	case kv == "cannot load":
		r.noLoad++
		r.reasons[why]++
	case bv == "cannot verify":
		r.noVerify++
	case bv == kv && bv == "accepts":
		r.bothAccept++
	case bv == kv:
		r.bothRefuse++
	default:
		if bv == "accepts" {
			r.looser++
		} else {
			r.stricter++
		}
		t.Logf("%s: DIFFER: bpfhost %s, kernel %s", where, bv, kv)
	}
	if bv == "accepts" && kv == "rejects" {
		t.Errorf("%s: bpfhost accepts what the kernel's verifier refuses", where)
	}
}

func (r *corpusRow) add(o *corpusRow) {
	r.bothAccept += o.bothAccept
	r.bothRefuse += o.bothRefuse
	r.stricter += o.stricter
	r.looser += o.looser
	r.noLoad += o.noLoad
	r.noVerify += o.noVerify
}

func (r *corpusRow) reasonList() string {
	var out []string
	for k, n := range r.reasons {
		out = append(out, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// log prints the table, its rows sorted by name under the heading first,
// and their total.
func (c *corpusTable) log(t *testing.T, first string) {
	var names []string
	for k := range c.rows {
		names = append(names, k)
	}
	sort.Strings(names)
	var sum corpusRow
	t.Logf("columns: both accept, both refuse, bpfhost refuses what the kernel accepts, bpfhost accepts what the kernel refuses,")
	t.Logf("bpfhost cannot verify (no type or target) where the kernel decides, the kernel cannot load it here (why)")
	t.Logf("%-18s %6s %6s %6s %6s %6s %6s %s", first, "accept", "refuse", "b-ref", "b-acc", "no-vfy", "no-ld", "why the kernel cannot load")
	for _, k := range names {
		r := c.rows[k]
		sum.add(r)
		t.Logf("%-18s %6d %6d %6d %6d %6d %6d %s", k, r.bothAccept, r.bothRefuse, r.stricter, r.looser, r.noVerify, r.noLoad, r.reasonList())
	}
	t.Logf("%-18s %6d %6d %6d %6d %6d %6d", "total", sum.bothAccept, sum.bothRefuse, sum.stricter, sum.looser, sum.noVerify, sum.noLoad)
}

// bpfhostVerdict is bpfhost's verdict on a program whose verification
// (program type, then verifier) ended with err: "accepts", "rejects" (a
// *VerifierError) or "cannot verify" (anything else); it logs why.
func bpfhostVerdict(t *testing.T, where string, err error) string {
	if err == nil {
		return "accepts"
	}
	var ve *VerifierError
	bv := "rejects"
	if !errors.As(err, &ve) {
		bv = "cannot verify"
	}
	t.Logf("%s: bpfhost %s: %s", where, bv, firstLine(err.Error()))
	return bv
}

// kernelVerdictAlone loads program name of kspec in the kernel, alone (its
// maps, not the other programs), after adjust (if not nil) changed its
// spec, and returns the kernel's verdict ("accepts", "rejects", "cannot
// load"), why it could not load it (a reason for a program of section kind
// kind, see kernelLoadReason) and, when it accepted, the verification time
// its log reports (0 if none); it logs why the kernel refused.
func kernelVerdictAlone(t *testing.T, where string, kspec *ebpf.CollectionSpec, name, kind string, adjust func(*ebpf.ProgramSpec)) (verdict, why string, took time.Duration) {
	one := kspec.Copy()
	for n := range one.Programs {
		if n != name {
			delete(one.Programs, n)
		}
	}
	p := one.Programs[name]
	if p == nil {
		return "cannot load", "cilium/ebpf does not see the program", 0
	}
	if adjust != nil {
		adjust(p)
	}
	c, err := ebpf.NewCollectionWithOptions(one, ebpf.CollectionOptions{
		Programs: ebpf.ProgramOptions{LogLevel: ebpf.LogLevelStats, LogSizeStart: 1 << 16}})
	var ve *ebpf.VerifierError
	switch {
	case err == nil:
		if m := kernelVerificationTime.FindStringSubmatch(c.Programs[name].VerifierLog); m != nil {
			us, _ := strconv.ParseInt(m[1], 10, 64)
			took = time.Duration(us) * time.Microsecond
		}
		c.Close()
		return "accepts", "", took
	case errors.As(err, &ve):
		t.Logf("%s: kernel rejects: %s", where, kernelFinding(ve.Log))
		return "rejects", "", 0
	}
	t.Logf("%s: kernel cannot load: %s", where, firstLine(err.Error()))
	return "cannot load", kernelLoadReason(kind, err), 0
}

// kernelFinding is the line of a kernel verifier log that says why it
// refused the program: the last one before its statistics.
func kernelFinding(log []string) string {
	for i := len(log) - 1; i >= 0; i-- {
		l := strings.TrimSpace(log[i])
		if l == "" || strings.HasPrefix(l, "processed ") || strings.HasPrefix(l, "stack depth ") ||
			strings.HasPrefix(l, "verification time ") || strings.HasPrefix(l, "max_states_per_insn") {
			continue
		}
		return l
	}
	return "(no log)"
}
