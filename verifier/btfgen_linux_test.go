package verifier_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/internal/progen"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/object"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/verifier"
)

// kernelTaskLayout reads struct task_struct's members that progen.BTFTyped
// uses from the running kernel's BTF.
func kernelTaskLayout() (progen.TaskLayout, error) {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return progen.TaskLayout{}, err
	}
	var task *btf.Struct
	if err := spec.TypeByName("task_struct", &task); err != nil {
		return progen.TaskLayout{}, err
	}
	lay := progen.TaskLayout{Size: int(task.Size)}
	want := map[string]*int{"flags": &lay.Flags, "pid": &lay.Pid, "tgid": &lay.Tgid, "real_parent": &lay.RealParent, "comm": &lay.Comm}
	for _, m := range task.Members {
		if p, ok := want[m.Name]; ok {
			*p = int(m.Offset.Bytes())
			delete(want, m.Name)
		}
	}
	if len(want) > 0 {
		return lay, fmt.Errorf("struct task_struct lacks %d of the members used", len(want))
	}
	return lay, nil
}

// btfGenSpec is a collection of one BTFTyped program with the maps it
// names (progen.HostileArray, progen.HostileRingbuf).
func btfGenSpec(p progen.HostileProgram) (*bpfhost.CollectionSpec, *bpfhost.ProgramSpec) {
	ms := []*bpfhost.MapSpec{
		progen.HostileArray:   {Name: "array", Type: uint32(linux.MapArray), KeySize: 4, ValueSize: progen.HostileValueSize, MaxEntries: 4},
		progen.HostileRingbuf: {Name: "rb", Type: uint32(linux.MapRingBuf), MaxEntries: 4096},
	}
	ps := &bpfhost.ProgramSpec{Name: "hostile", Section: p.Type.Section(), License: "GPL", Instructions: p.Instructions}
	for pc := 0; pc < len(p.Instructions); pc++ {
		if in := p.Instructions[pc]; in.IsLoadImm64() {
			if in.Src == isa.PseudoMapIdx {
				ps.References = append(ps.References, object.Reference{Slot: pc, Kind: object.RefMap, Name: ms[in.Imm].Name, Map: int(in.Imm)})
			}
			pc++
		}
	}
	return &bpfhost.CollectionSpec{Programs: []*bpfhost.ProgramSpec{ps}, Maps: ms, License: "GPL"}, ps
}

var (
	scalarDeref = regexp.MustCompile(`R(\d+) invalid mem access 'scalar'`)
	// The count of a bpf_loop call that bpfhost bounds: 2, or a number
	// masked to 1.
	boundedCount = regexp.MustCompile(`(mov %r1, 2|and %r1, 1)\nlddw %r2, 0x46`)
)

// explainBTF explains the kernel's rejections of BTFTyped programs that
// bpfhost accepts safely: a BTF pointer joined with NULL and read through
// unchecked (the kernel walks the NULL path apart and refuses the load;
// bpfhost's probing load reads 0 there, decision 0026), and bpf_loop
// callbacks whose index bpfhost bounds by a constant count where the
// kernel takes it for any number (no more callbacks without an index
// check than counts bounded to 2; which count goes with which callback is
// not matched: the containment test runs them).
func explainBTF(log, src string) string {
	lines := strings.Split(log, "\n")
	if m := scalarDeref.FindStringSubmatch(log); m != nil {
		// The register is a constant 0 in the state before the load.
		for i := len(lines) - 1; i >= 0 && i >= len(lines)-4; i-- {
			if strings.Contains(lines[i], " R"+m[1]+"=0 ") || strings.HasSuffix(lines[i], " R"+m[1]+"=0") {
				return "a BTF pointer joined with NULL, read unchecked (0026)"
			}
		}
	}
	varStack := strings.Contains(log, "math between fp pointer and register with unbounded min value") || strings.Contains(log, "invalid variable-offset write to stack")
	if varStack && strings.Contains(log, "call bpf_loop") && strings.Count(src, "mov %r3, %r1\nlsh %r3, 3") <= len(boundedCount.FindAllString(src, -1)) {
		return "a bpf_loop callback's index bounded by a constant count"
	}
	return ""
}

// TestKernelDifferentialBTFTyped is the kernel differential on
// progen.BTFTyped's tp_btf/sched_switch programs, laid out for the running
// kernel's task_struct and verified by bpfhost against the running
// kernel's BTF: BTF pointers read through, joined, compared, subtracted,
// and passed to helpers as sizes, counts, flags, keys, values, buffers and
// callback contexts. Every program the kernel rejects and bpfhost accepts
// is a finding, unless explained. Skips where the kernel cannot load
// tp_btf programs.
//
//	go test ./verifier -run TestKernelDifferentialBTFTyped -differential.count=5000 -differential.seed=3
func TestKernelDifferentialBTFTyped(t *testing.T) {
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here: %v", err)
	}
	lay, err := kernelTaskLayout()
	if err != nil {
		t.Skipf("kernel BTF: %v", err)
	}
	ms := kernelHostileMaps(t)
	n := differentialN()
	seed := *differentialSeed
	g := progen.NewBTFTyped(rand.New(rand.NewPCG(seed, 29)), lay)
	var d diffTally
	start := time.Now()
	for i := 0; i < n; i++ {
		p := g.Program()
		spec, ps := btfGenSpec(p.HostileProgram)
		info, _, err := bpfhost.ProgramType(ps, nil)
		if err != nil {
			t.Fatal(err)
		}
		herr := bpfhost.VerifyProgram(spec, ps, info, nil)
		if herr != nil && !errors.Is(herr, verifier.ErrRejected) {
			t.Fatalf("program %d: bpfhost: %v\n%s", i, herr, p.Source)
		}
		kerr, log := kernelVerify(p.HostileProgram, ms)
		if kerr != nil && log == "" && errors.Is(kerr, unix.EFAULT) {
			// "hit verifier bug": the kernel's verifier failed on its own
			// (Linux 6.18, whenever a BTF pointer is bpf_loop's count).
			d.note("the kernel's verifier failed (EFAULT, a kernel bug)")
			continue
		}
		if kerr != nil && log == "" {
			if i == 0 {
				t.Skipf("the kernel cannot load tp_btf programs here: %v", kerr)
			}
			t.Fatalf("program %d: kernel load failed without a verifier log: %v\n%s", i, kerr, p.Source)
		}
		if d.alike(kerr, herr) {
			continue
		}
		if e := explainBTF(log, p.Source); e != "" {
			d.note("explained: " + e)
			continue
		}
		if d.explain(log) {
			continue
		}
		lines := strings.Split(strings.TrimSpace(log), "\n")
		lines = lines[max(0, len(lines)-8):]
		reason := numbers.ReplaceAllString(kerr.Error(), "N")
		d.finding(seed, i, reason, "; "+strings.Join(lines, "\n; ")+"\n"+p.Source)
	}
	t.Logf("BTF-typed differential, seed %d: %d programs in %v: %d accepted by both, %d rejected by both, %d accepted only by the kernel, %d new findings",
		seed, n, time.Since(start).Round(time.Millisecond), d.both, d.neither, d.kernelOnly, len(d.findings))
	d.report(t, "")
	if d.both == 0 {
		t.Error("no program accepted by both: the test compares nothing")
	}
}
