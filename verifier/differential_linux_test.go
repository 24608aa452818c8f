package verifier_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/rlimit"

	"github.com/bpfhost/bpfhost/internal/progen"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/verifier"
)

// The kernel differential: hostile generated programs (progen.Hostile) go
// through the Linux verifier and bpfhost's. Every program the kernel
// rejects for a safety reason and bpfhost accepts is a finding, until a
// category below explains why bpfhost is right to accept it.
//
//	go test ./verifier -run TestKernelVerifierDifferential -differential.count=20000 -differential.seed=1
var (
	differentialCount = flag.Int("differential.count", 0, "programs TestKernelVerifierDifferential compares (0: 300)")
	differentialSeed  = flag.Uint64("differential.seed", 1, "seed of TestKernelVerifierDifferential's generator")
	differentialOut   = flag.String("differential.out", "", "file to write the findings' programs to")
	// differentialTailSub adds subprograms that tail-call to the hostile
	// programs (progen.Hostile.SubprogramTailCalls): kernelVerify gives
	// every function BTF func info, which Linux wants for them.
	differentialTailSub = flag.Bool("differential.tailsub", false, "TestKernelVerifierDifferential: also tail calls in subprograms")
)

// explained are kernel rejections that are no finding when bpfhost accepts:
// the kernel refuses for a reason other than the program's safety, or
// bpfhost proves safe what the kernel cannot. Each names the test or
// document that shows why.
var explained = []struct {
	name string
	re   *regexp.Regexp
	why  string
}{
	// Linux keeps spin locks out of socket filters because of where it
	// runs them (check_map_prog_compatibility: "yet"), not because of
	// what the program does; bpfhost's bpf_spin_lock is the same for
	// every program type, and TestContainmentHostile (root package) runs
	// socket programs that take locks under the containment check.
	{"spin lock in a socket filter", regexp.MustCompile(`socket filter progs cannot use bpf_spin_lock yet`),
		"a restriction of Linux's execution context, not of the program"},
}

// knownFindings are kernel rejections that bpfhost's verifier should make
// too and does not yet: each has a reproducer in testdata/differential,
// which TestKernelDifferentialFindings expects bpfhost to reject. The
// differential counts them apart so that new kinds stand out.
var knownFindings = []struct {
	file string
	re   *regexp.Regexp
	flaw string // if set, the finding is known only in programs with this flaw
}{
	{"spinlock-store.s", regexp.MustCompile(`bpf_spin_lock cannot be accessed directly by load/store`), ""},
	{"ringbuf-tailcall.s", regexp.MustCompile(`tail_call would lead to reference leak`), ""},
	{"ringbuf-join.s", regexp.MustCompile(`invalid mem access 'scalar'`), "ring buffer record used after release through a joined copy"},
}

// known returns the reproducer of a known finding the rejection of p
// matches.
func known(msg string, p progen.HostileProgram) string {
	for _, k := range knownFindings {
		if k.re.MatchString(msg) && (k.flaw == "" || slices.Contains(p.Flaws, k.flaw)) {
			return k.file
		}
	}
	return ""
}

// hostileMaps are the maps of progen's hostile programs, for bpfhost.
var hostileMaps = []verifier.MapInfo{
	progen.HostileArray:   {Name: "array", Type: linux.MapArray, KeySize: 4, ValueSize: progen.HostileValueSize, MaxEntries: 4},
	progen.HostileRingbuf: {Name: "rb", Type: linux.MapRingBuf, MaxEntries: 4096},
	progen.HostileProgs:   {Name: "progs", Type: linux.MapProgArray, KeySize: 4, ValueSize: 4, MaxEntries: 1},
	progen.HostileLock:    {Name: "lock", Type: linux.MapArray, KeySize: 4, ValueSize: 8, MaxEntries: 1, HasSpinLock: true},
}

// kernelHostileMaps creates the same maps in the kernel, closed when the
// test ends; the lock map's value has BTF naming its struct
// bpf_spin_lock, as Linux requires. Where the kernel refuses, the test is
// skipped with the reason.
func kernelHostileMaps(t *testing.T) []*ebpf.Map {
	t.Helper()
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	lock := &btf.Struct{Name: "bpf_spin_lock", Size: 4, Members: []btf.Member{{Name: "val", Type: u32}}}
	val := &btf.Struct{Name: "lval", Size: 8, Members: []btf.Member{{Name: "l", Type: lock}, {Name: "x", Type: u32, Offset: 32}}}
	specs := []*ebpf.MapSpec{
		progen.HostileArray:   {Name: "array", Type: ebpf.Array, KeySize: 4, ValueSize: progen.HostileValueSize, MaxEntries: 4},
		progen.HostileRingbuf: {Name: "rb", Type: ebpf.RingBuf, MaxEntries: 4096},
		progen.HostileProgs:   {Name: "progs", Type: ebpf.ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 1},
		progen.HostileLock:    {Name: "lock", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1, Key: u32, Value: val},
	}
	var out []*ebpf.Map
	for _, s := range specs {
		m, err := ebpf.NewMap(s)
		if err != nil {
			t.Skipf("bpf() not permitted here: map %s: %v", s.Name, err)
		}
		t.Cleanup(func() { m.Close() })
		out = append(out, m)
	}
	return out
}

// differentialN is how many programs a kernel differential tries:
// -differential.count, or 300.
func differentialN() int {
	if *differentialCount == 0 {
		return 300
	}
	return *differentialCount
}

// kernelVerify loads a hostile program into the kernel and returns nil or
// the verifier's rejection with its log.
func kernelVerify(p progen.HostileProgram, maps []*ebpf.Map) (error, string) {
	code := isa.Encode(p.Instructions)
	insns, err := asm.AppendInstructions(nil, bytes.NewReader(code), binary.LittleEndian, "linux")
	if err != nil {
		return fmt.Errorf("decode with cilium/ebpf: %w", err), ""
	}
	// Functions: Linux wants BTF func info for programs with callbacks,
	// and cilium/ebpf links function addresses by symbol.
	slot := make([]int, len(insns)) // asm index -> slot
	index := map[int]int{}          // slot -> asm index
	for i, n := 0, 0; i < len(insns); i++ {
		slot[i], index[n] = n, i
		n += int(insns[i].Size() / asm.InstructionSize)
	}
	u64 := &btf.Int{Name: "u64", Size: 8}
	insns[0] = btf.WithFuncMetadata(insns[0].WithSymbol("main"), &btf.Func{Name: "main", Linkage: btf.GlobalFunc,
		Type: &btf.FuncProto{Return: &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}, Params: []btf.FuncParam{{Name: "ctx", Type: &btf.Pointer{Target: &btf.Void{}}}}}})
	for i := range insns {
		if insns[i].OpCode == asm.LoadImmOp(asm.DWord) && insns[i].Src == asm.PseudoFunc {
			target := index[slot[i]+1+int(insns[i].Constant)]
			name := fmt.Sprintf("cb%d", target)
			insns[i] = insns[i].WithReference(name)
			insns[i].Constant = -1
			if insns[target].Symbol() == "" {
				insns[target] = btf.WithFuncMetadata(insns[target].WithSymbol(name), &btf.Func{Name: name, Linkage: btf.StaticFunc,
					Type: &btf.FuncProto{Return: &btf.Int{Name: "long", Size: 8, Encoding: btf.Signed}, Params: []btf.FuncParam{{Name: "i", Type: u64}, {Name: "ctx", Type: &btf.Pointer{Target: &btf.Void{}}}}}})
			}
		}
		if insns[i].IsFunctionCall() {
			// A BPF-to-BPF call (precision programs): its target is a
			// static function of its own.
			target := index[slot[i]+1+int(insns[i].Constant)]
			name := fmt.Sprintf("fn%d", target)
			insns[i] = insns[i].WithReference(name)
			insns[i].Constant = -1
			if insns[target].Symbol() == "" {
				insns[target] = btf.WithFuncMetadata(insns[target].WithSymbol(name), &btf.Func{Name: name, Linkage: btf.StaticFunc,
					Type: &btf.FuncProto{Return: &btf.Int{Name: "long", Size: 8, Encoding: btf.Signed}, Params: []btf.FuncParam{{Name: "p", Type: u64}}}})
			}
		}
		if insns[i].OpCode == asm.LoadImmOp(asm.DWord) && insns[i].Src == asm.Register(isa.PseudoMapIdx) {
			m := maps[insns[i].Constant]
			insns[i].Src = asm.PseudoMapFD
			insns[i].Constant = 0
			if err := insns[i].AssociateMap(m); err != nil {
				return err, ""
			}
		}
	}
	ps := &ebpf.ProgramSpec{Instructions: insns, License: "GPL"}
	ps.Type = map[progen.HostileType]ebpf.ProgramType{progen.HostileXDP: ebpf.XDP, progen.HostileTC: ebpf.SchedCLS, progen.HostileSocket: ebpf.SocketFilter}[p.Type]
	if p.Type == progen.HostileTPBTF {
		ps.Type, ps.AttachType, ps.AttachTo = ebpf.Tracing, ebpf.AttachTraceRawTp, "sched_switch"
	}
	prog, err := ebpf.NewProgram(ps)
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return err, strings.Join(ve.Log, "\n")
		}
		return err, ""
	}
	prog.Close()
	return nil, ""
}

func TestKernelVerifierDifferential(t *testing.T) {
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here: %v", err)
	}
	// A program array belongs to the first program type that uses it:
	// each type gets its own maps.
	var maps [3][]*ebpf.Map
	for i := range maps {
		maps[i] = kernelHostileMaps(t)
	}
	n := differentialN()
	seed := *differentialSeed
	g := progen.NewHostile(rand.New(rand.NewPCG(seed, 17)))
	g.SubprogramTailCalls = *differentialTailSub
	var d diffTally
	start := time.Now()
	for i := 0; i < n; i++ {
		p := g.Program()
		info, _ := linux.Lookup(p.Type.Section())
		_, herr := verifier.Verify(p.Instructions, verifier.Options{Type: info, ABI: linux.ABI(), Maps: hostileMaps, MaxIterations: 50000})
		if herr != nil && !errors.Is(herr, verifier.ErrRejected) {
			t.Fatalf("program %d: bpfhost: %v\n%s", i, herr, p)
		}
		kerr, log := kernelVerify(p, maps[p.Type])
		if kerr != nil && log == "" {
			t.Fatalf("program %d: kernel load failed without a verifier log: %v\n%s", i, kerr, p)
		}
		if d.alike(kerr, herr) || d.explain(log) {
			continue
		}
		reason := numbers.ReplaceAllString(kerr.Error(), "N")
		if k := known(reason, p); k != "" {
			d.known++
			d.note("known finding, testdata/differential/" + k)
			continue
		}
		d.finding(seed, i, reason, p.String())
	}
	only := len(d.findings)
	t.Logf("kernel differential, seed %d: %d programs in %v: %d accepted by both, %d rejected by both, %d accepted only by the kernel (bpfhost imprecise), %d accepted only by bpfhost (%d explained, %d known findings, %d new findings)",
		seed, n, time.Since(start).Round(time.Millisecond), d.both, d.neither, d.kernelOnly, only+d.explained+d.known, d.explained, d.known, only)
	d.report(t, ", of kinds not known before")
}

// numbers are replaced in kernel messages, which then name a reason the
// same way for every program.
var numbers = regexp.MustCompile(`-?\d+`)

// diffTally counts the verdicts of a kernel differential: programs both
// accept, both reject, only the kernel accepts (bpfhost imprecise, named by
// bpfhost's first message), and only bpfhost accepts, which are explained,
// known or findings. reasons counts each kind of outcome by name.
type diffTally struct {
	both, neither, kernelOnly, explained, known int
	reasons                                     map[string]int
	findings                                    []string
}

// alike counts a program whose verdicts agree, or that only the kernel
// accepts, and reports whether it was one of those; the rest (only
// bpfhost accepts) is the caller's to explain or record as a finding.
func (d *diffTally) alike(kerr, herr error) bool {
	switch {
	case kerr == nil && herr == nil:
		d.both++
	case kerr != nil && herr != nil:
		d.neither++
	case kerr == nil:
		d.kernelOnly++
		var ve *verifier.VerifierError
		if errors.As(herr, &ve) && len(ve.Errors) > 0 {
			d.note("kernel accepts, bpfhost says: " + numbers.ReplaceAllString(ve.Errors[0].Message, "N"))
		}
	default:
		return false
	}
	return true
}

// explain counts a program only bpfhost accepts whose kernel log one of
// the explained categories matches, and reports whether one did.
func (d *diffTally) explain(log string) bool {
	e := explain(log)
	if e == "" {
		return false
	}
	d.explained++
	d.note("explained: " + e)
	return true
}

// note counts one more outcome of the kind reason names.
func (d *diffTally) note(reason string) {
	if d.reasons == nil {
		d.reasons = map[string]int{}
	}
	d.reasons[reason]++
}

// finding records a program only bpfhost accepts that nothing explains:
// the kernel's reason (numbers replaced) and the program's text.
func (d *diffTally) finding(seed uint64, i int, reason, text string) {
	d.note(reason)
	d.findings = append(d.findings, fmt.Sprintf("; finding %d (seed %d, program %d): the kernel says %q\n%s", len(d.findings), seed, i, reason, text))
}

// report logs the reasons, most frequent first, writes the findings'
// programs to -differential.out, and fails the test on any finding (kinds
// names them in the message).
func (d *diffTally) report(t *testing.T, kinds string) {
	t.Helper()
	var keys []string
	for k := range d.reasons {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return d.reasons[keys[i]] > d.reasons[keys[j]] })
	for _, k := range keys {
		t.Logf("%6d  %s", d.reasons[k], k)
	}
	if *differentialOut != "" {
		os.WriteFile(*differentialOut, []byte(strings.Join(d.findings, "\n")), 0o644)
	}
	if len(d.findings) > 0 {
		t.Errorf("%d programs the kernel rejects and bpfhost accepts%s; the first:\n%s", len(d.findings), kinds, d.findings[0])
	}
}

// explain returns the name of the category that explains a rejection, or "".
func explain(log string) string {
	for _, e := range explained {
		if e.re.MatchString(log) {
			return e.name
		}
	}
	return ""
}

// TestKernelDifferentialFindings replays the known findings of the kernel
// differential: programs Linux rejects for their safety, which bpfhost must
// reject too. It fails until each is fixed (skipped with -short, so that the
// quick suite stays green while the fixes are under way).
func TestKernelDifferentialFindings(t *testing.T) {
	if testing.Short() {
		t.Skip("known findings, expected to fail until fixed: run without -short")
	}
	for _, k := range knownFindings {
		t.Run(k.file, func(t *testing.T) {
			src, err := os.ReadFile("testdata/differential/" + k.file)
			if err != nil {
				t.Fatal(err)
			}
			section := regexp.MustCompile(`(?m)^# section: (\S+)`).FindSubmatch(src)
			if section == nil {
				t.Fatal("no '# section:' line")
			}
			prog, err := isa.Assemble(string(src))
			if err != nil {
				t.Fatal(err)
			}
			info, ok := linux.Lookup(string(section[1]))
			if !ok {
				t.Fatalf("section %s: no program type", section[1])
			}
			if _, err := verifier.Verify(prog, verifier.Options{Type: info, ABI: linux.ABI(), Maps: hostileMaps}); err == nil {
				t.Errorf("accepted; Linux rejects it (%s)", k.re)
			}
		})
	}
}
