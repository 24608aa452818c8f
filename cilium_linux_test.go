package bpfhost

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/rlimit"

	"github.com/bpfhost/bpfhost/object"
	"github.com/bpfhost/bpfhost/verifier"
)

// ciliumDir names a directory of Cilium datapath objects for TestCilium:
// scripts/cilium-objects.sh builds them, one subdirectory per configuration.
var ciliumDir = flag.String("cilium", "", "directory of Cilium datapath objects (scripts/cilium-objects.sh DIR) that TestCilium verifies")

// ciliumLog names a program ("max/bpf_lxc tail_ipv4_policy") whose
// verifier trace TestCilium writes to ciliumLogFile.
var ciliumLog = flag.String("cilium.log", "", "TestCilium: write the verifier trace of this program (\"CONFIG/OBJECT PROGRAM\") to "+ciliumLogFile)

const ciliumLogFile = "/tmp/cilium-verifier.log"

// TestCilium verifies every program of Cilium's datapath objects (bpf_lxc,
// bpf_host, bpf_xdp, bpf_sock, bpf_overlay, bpf_network, as built by
// scripts/cilium-objects.sh in each of its configurations) in bpfhost and
// in the running kernel, one program at a time, and prints per object how
// many verdicts agree, differ, and how many programs the kernel cannot load
// here (with the reason); per program it logs both verdicts, bpfhost's
// verification time, the peak memory of its kept states and what it
// allocated, and the kernel's own verification time. It fails where bpfhost
// accepts a program the kernel's verifier refuses. It is a measurement
// (skipped without the flag):
//
//	scripts/cilium-objects.sh /tmp/cilium
//	go test -count=1 -run TestCilium -cilium /tmp/cilium -v .
//
// Programs are loaded as Cilium's loader loads them: the references to its
// configuration section .rodata.config become the constants they point to
// (ciliumInlineConfig); a program whose section
// names no type (the tail-call targets in "N/M" sections) gets the type of
// the object's other programs; maps pinned by name are created unpinned
// (iproute2's extra map definition fields are ignored);
// prog arrays stay empty, since neither verifier's verdict on a program
// depends on what its tail calls reach.
func TestCilium(t *testing.T) {
	if *ciliumDir == "" {
		t.Skip("no -cilium directory")
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here: %v", err)
	}
	objs, err := filepath.Glob(filepath.Join(*ciliumDir, "*", "*.o"))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) == 0 {
		t.Fatalf("no objects in %s/*/: run scripts/cilium-objects.sh %s", *ciliumDir, *ciliumDir)
	}
	sort.Strings(objs)
	counts := map[string]*toolsRow{}
	var slowest, biggest, sum ciliumCost
	for _, path := range objs {
		rel, _ := filepath.Rel(*ciliumDir, path)
		c := ciliumObject(t, path, strings.TrimSuffix(rel, ".o"), counts)
		sum.bothTime += c.bothTime
		sum.kernelTime += c.kernelTime
		sum.stricter = append(sum.stricter, c.stricter...)
		if c.time > slowest.time {
			slowest = c
		}
		if c.bytes > biggest.bytes {
			biggest = c
		}
	}
	logToolsTable(t, "object", counts)
	kinds := map[string]int{}
	for _, k := range sum.stricter {
		kinds[k]++
	}
	for k, n := range kinds {
		t.Logf("only the kernel accepts, bpfhost's first finding: %3d %s", n, k)
	}
	t.Logf("programs both accept: bpfhost's verification time %v in all, the kernel's %v (its log's)", sum.bothTime.Round(time.Millisecond), sum.kernelTime.Round(time.Millisecond))
	t.Logf("slowest bpfhost verification: %s (%v); most state memory: %s (%d MiB)", slowest.where, slowest.time.Round(time.Millisecond), biggest.where, biggest.bytes>>20)
}

// ciliumCost is the largest cost of one object's programs.
type ciliumCost struct {
	where string
	time  time.Duration
	bytes int64
	// bothTime and kernelTime are bpfhost's and the kernel's verification
	// times summed over the programs both accept.
	bothTime, kernelTime time.Duration
	// stricter are the kinds of bpfhost's first findings on the programs
	// only the kernel accepts (findingKind).
	stricter []string
}

// findingKind is a verifier message without its numbers and registers, to
// count programs refused for the same kind of reason.
func findingKind(msg string) string {
	return findingNumbers.ReplaceAllString(msg, "N")
}

var findingNumbers = regexp.MustCompile(`\b(r|w|fp)?-?[0-9]+\b`)

// objectProgramType is the type of the programs of spec whose section names
// one, when they all have the same: the type Cilium's loader (and tc) give
// the object's tail-call targets. Nil when there is none or several.
func objectProgramType(spec *CollectionSpec) *ProgramTypeInfo {
	var typ *ProgramTypeInfo
	for _, ps := range spec.Programs {
		info, _, err := ProgramType(ps, nil)
		if err != nil {
			continue
		}
		if typ != nil && (typ.Type != info.Type || typ.Attach != info.Attach) {
			return nil
		}
		typ = info
	}
	return typ
}

func ciliumObject(t *testing.T, path, name string, counts map[string]*toolsRow) ciliumCost {
	var cost ciliumCost
	spec, err := LoadCollectionSpec(path)
	if err != nil {
		t.Errorf("%s: bpfhost cannot load the object: %v", name, err)
		toolsRowOf(counts, name).noVerify++
		return cost
	}
	kspec, kerr := ebpf.LoadCollectionSpec(path)
	if kerr == nil {
		if kerr = ciliumInlineConfig(spec, kspec); kerr != nil {
			t.Errorf("%s: %v", name, kerr)
		}
		for _, m := range kspec.Maps {
			// iproute2's struct bpf_elf_map fields after the libbpf ones
			// (id, pinning, inner_id, inner_idx): Cilium's loader reads
			// them (Extra) and pins maps itself.
			m.Pinning, m.Extra = ebpf.PinNone, nil
		}
	}
	objType := objectProgramType(spec)
	for _, ps := range spec.Programs {
		where := fmt.Sprintf("%s %s (%s)", name, ps.Name, elfSection(ps))
		info, _, err := ProgramType(ps, nil)
		if errors.Is(err, ErrNoProgramType) && objType != nil {
			info, err = objType, nil
		}
		var btime time.Duration
		var bbytes int64
		var balloc uint64
		if err == nil {
			btime, bbytes, balloc, err = ciliumVerify(spec, ps, info, *ciliumLog == name+" "+ps.Name)
		}
		bv := bpfhostErrVerdict(t, where, err)
		var finding string
		var ve *VerifierError
		if errors.As(err, &ve) && len(ve.Errors) > 0 {
			finding = ve.Errors[0].Message
		}
		if btime > cost.time {
			cost.time, cost.where = btime, where
		}
		if bbytes > cost.bytes {
			cost.bytes = bbytes
		}
		kv, why, ktime := "cannot load", "", time.Duration(0)
		if kerr != nil {
			why = "cilium/ebpf cannot parse the object"
		} else if info == nil {
			why = "no program type"
		} else {
			kv, why, ktime = kernelVerdictAlone(t, where, kspec, ps.Name, info.Name, func(p *ebpf.ProgramSpec) {
				p.Type, p.AttachType = ebpf.ProgramType(info.Type), ebpf.AttachType(info.Attach)
			})
		}
		t.Logf("%s: %d insns, bpfhost %s in %v (states %d KiB, allocated %d MiB), kernel %s in %v", where, len(ps.Instructions), bv,
			btime.Round(time.Millisecond), bbytes>>10, balloc>>20, kv, ktime)
		if bv == "accepts" && kv == "accepts" {
			cost.bothTime += btime
			cost.kernelTime += ktime
		}
		countVerdicts(t, counts, name, where, bv, kv, why)
		if bv == "rejects" && kv == "accepts" {
			cost.stricter = append(cost.stricter, findingKind(finding))
		}
	}
	return cost
}

// ciliumVerify verifies ps as info in bpfhost (with a trace to
// ciliumLogFile if trace is set) and returns the time it took,
// the peak memory of the verifier's kept states (0 when it failed) and the
// bytes the verification allocated.
func ciliumVerify(spec *CollectionSpec, ps *ProgramSpec, info *ProgramTypeInfo, trace bool) (took time.Duration, states int64, alloc uint64, err error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	vopts, rel, _, err := typedVerifierOptions(spec, ps, info, "")
	if err != nil {
		return 0, 0, 0, err
	}
	if trace {
		f, err := os.Create(ciliumLogFile)
		if err != nil {
			return 0, 0, 0, err
		}
		defer f.Close()
		vopts.Verbose = f
	}
	res, err := verifier.Verify(rel.Instructions, vopts)
	took = time.Since(start)
	runtime.ReadMemStats(&after)
	if res != nil {
		states = res.PeakStateBytes
	}
	return took, states, after.TotalAlloc - before.TotalAlloc, err
}

// ciliumConfigSections are the data sections whose variables Cilium's
// loader (pkg/bpf, inlineGlobalData) turns into constants before loading:
// .rodata.config since Cilium 1.15 (CONFIG(name)), .data before
// (DEFINE_U32 and fetch_u32). An object has one or the other.
var ciliumConfigSections = []string{".rodata.config", ".data"}

// ciliumInlineConfig does to spec (bpfhost's) and kspec (the kernel's) what
// Cilium's loader does to its objects: every lddw of an address in its
// configuration section (the first of ciliumConfigSections the object has;
// CONFIG(name) compiles to "r1 = __config_name ll") becomes an lddw of the
// variable's value, zero-extended to 64 bits. Loaded as compiled, the
// register holds a pointer into the section that the code uses as a
// number, which both verifiers refuse.
func ciliumInlineConfig(spec *CollectionSpec, kspec *ebpf.CollectionSpec) error {
	var ciliumConfigSection string
	for _, name := range ciliumConfigSections {
		if kspec.Maps[name] != nil {
			ciliumConfigSection = name
			break
		}
	}
	if ciliumConfigSection == "" {
		return nil
	}
	m := kspec.Maps[ciliumConfigSection]
	ds, ok := m.Value.(*btf.Datasec)
	if !ok || len(m.Contents) != 1 {
		return fmt.Errorf("%s: no BTF datasec or no contents", ciliumConfigSection)
	}
	data, ok := m.Contents[0].Value.([]byte)
	if !ok {
		return fmt.Errorf("%s: contents are %T, not bytes", ciliumConfigSection, m.Contents[0].Value)
	}
	values := map[uint32]uint64{}
	for _, v := range ds.Vars {
		if v.Size > 8 || uint64(v.Offset)+uint64(v.Size) > uint64(len(data)) {
			return fmt.Errorf("%s: variable of %d bytes at %d", ciliumConfigSection, v.Size, v.Offset)
		}
		var b [8]byte
		copy(b[:], data[v.Offset:v.Offset+v.Size])
		values[v.Offset] = binary.LittleEndian.Uint64(b[:])
	}
	for _, p := range kspec.Programs {
		for i, ins := range p.Instructions {
			if !ins.IsLoadFromMap() || ins.Src != asm.PseudoMapValue || ins.Reference() != ciliumConfigSection {
				continue
			}
			off := uint32(uint64(ins.Constant) >> 32)
			v, ok := values[off]
			if !ok {
				return fmt.Errorf("program %s: no variable at offset %d of %s", p.Name, off, ciliumConfigSection)
			}
			imm := asm.LoadImm(ins.Dst, int64(v), asm.DWord)
			imm.Metadata = ins.Metadata
			p.Instructions[i] = imm
		}
	}
	for _, ps := range spec.Programs {
		refs := ps.References[:0]
		for _, ref := range ps.References {
			if ref.Kind != object.RefMapValue || ref.Name != ciliumConfigSection {
				refs = append(refs, ref)
				continue
			}
			v, ok := values[ref.Offset]
			if !ok || ref.Slot+1 >= len(ps.Instructions) {
				return fmt.Errorf("program %s: no variable at offset %d of %s", ps.Name, ref.Offset, ciliumConfigSection)
			}
			ps.Instructions[ref.Slot].Src, ps.Instructions[ref.Slot].Imm = 0, int32(uint32(v))
			ps.Instructions[ref.Slot+1].Imm = int32(uint32(v >> 32))
		}
		ps.References = refs
	}
	return nil
}
