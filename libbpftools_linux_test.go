package bpfhost

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// libbpfToolsDir names a directory of libbpf-tools binaries (Debian's
// libbpf-tools package installs them in /usr/sbin) for TestLibbpfTools.
var libbpfToolsDir = flag.String("libbpftools", "", "directory of libbpf-tools binaries whose embedded BPF objects TestLibbpfTools verifies (e.g. /usr/sbin)")

// embeddedBPF returns the BPF ELF objects a libbpf skeleton binary embeds:
// 64-bit little-endian ELF images with e_machine EM_BPF, each as long as its
// section header table's end.
func embeddedBPF(bin []byte) [][]byte {
	var out [][]byte
	for i := 1; ; i += 4 {
		j := bytes.Index(bin[i:], []byte("\x7fELF"))
		if j < 0 {
			return out
		}
		i += j
		h := bin[i:]
		if len(h) < 64 || h[4] != 2 || h[5] != 1 || binary.LittleEndian.Uint16(h[18:]) != 247 {
			continue
		}
		end := binary.LittleEndian.Uint64(h[40:]) + uint64(binary.LittleEndian.Uint16(h[58:]))*uint64(binary.LittleEndian.Uint16(h[60:]))
		if end <= uint64(len(h)) {
			out = append(out, h[:end])
		}
	}
}

// TestLibbpfTools verifies every program of the BPF objects that the
// libbpf-tools binaries in -libbpftools embed (kprobes, tracepoints, raw and
// BTF tracepoints, perf events, uprobes, fentry/fexit, iterators, ...),
// against the running kernel's BTF and kconfig, and loads each in the kernel
// the way libbpf would (CO-RE against the kernel's BTF, .kconfig externs,
// global data as compiled). It reports, per section kind, how many verdicts
// agree, how many differ and how many programs the kernel cannot load here
// (with the reason), and fails where bpfhost accepts a program the kernel's
// verifier refuses. It is a measurement (skipped without the flag), e.g.
//
//	apt-get install libbpf-tools
//	go test -count=1 -run TestLibbpfTools -libbpftools /usr/sbin -v .
func TestLibbpfTools(t *testing.T) {
	if *libbpfToolsDir == "" {
		t.Skip("no -libbpftools directory")
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here: %v", err)
	}
	bins, err := filepath.Glob(filepath.Join(*libbpfToolsDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(bins)
	dir := t.TempDir()
	counts := map[string]*toolsRow{}
	for _, bin := range bins {
		data, err := os.ReadFile(bin)
		if err != nil || !bytes.HasPrefix(data, []byte("\x7fELF")) {
			continue
		}
		for k, obj := range embeddedBPF(data) {
			path := filepath.Join(dir, filepath.Base(bin)+"-"+string(rune('0'+k))+".bpf.o")
			if err := os.WriteFile(path, obj, 0o600); err != nil {
				t.Fatal(err)
			}
			libbpfToolsObject(t, path, counts)
		}
	}
	logToolsTable(t, "kind", counts)
}

// toolsRow counts the verdicts of one section kind in TestLibbpfTools:
// both accept, both refuse, bpfhost refuses what the kernel accepts
// (stricter), bpfhost accepts what the kernel refuses (looser), bpfhost
// cannot verify it (no type, no target), the kernel cannot load the program
// here (by reason).
type toolsRow struct {
	bothAccept, bothRefuse, stricter, looser, noVerify, noLoad int
	reasons                                                    map[string]int
}

// logToolsTable logs the rows of counts sorted by name under the heading
// first (a section kind, an object), and their total.
func logToolsTable(t *testing.T, first string, counts map[string]*toolsRow) {
	var kinds []string
	for k := range counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var sum toolsRow
	t.Logf("columns: both accept, both refuse, bpfhost refuses what the kernel accepts, bpfhost accepts what the kernel refuses,")
	t.Logf("bpfhost cannot verify (no type or target) where the kernel decides, the kernel cannot load it here (why)")
	t.Logf("%-14s %6s %6s %6s %6s %6s %6s %s", first, "accept", "refuse", "b-ref", "b-acc", "no-vfy", "no-ld", "why the kernel cannot load")
	for _, k := range kinds {
		r := counts[k]
		sum.add(r)
		t.Logf("%-14s %6d %6d %6d %6d %6d %6d %s", k, r.bothAccept, r.bothRefuse, r.stricter, r.looser, r.noVerify, r.noLoad, r.reasonList())
	}
	t.Logf("%-14s %6d %6d %6d %6d %6d %6d", "total", sum.bothAccept, sum.bothRefuse, sum.stricter, sum.looser, sum.noVerify, sum.noLoad)
}

// toolsRowOf returns the row name of counts, made if new.
func toolsRowOf(counts map[string]*toolsRow, name string) *toolsRow {
	r := counts[name]
	if r == nil {
		r = &toolsRow{reasons: map[string]int{}}
		counts[name] = r
	}
	return r
}

func (r *toolsRow) add(o *toolsRow) {
	r.bothAccept += o.bothAccept
	r.bothRefuse += o.bothRefuse
	r.stricter += o.stricter
	r.looser += o.looser
	r.noLoad += o.noLoad
	r.noVerify += o.noVerify
}

func (r *toolsRow) reasonList() string {
	var out []string
	for k, n := range r.reasons {
		out = append(out, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// toolsSectionKind is the section's kind for the table: its prefix before
// '/', without libbpf's sleepable suffix ".s".
func toolsSectionKind(section string) string {
	kind, _, _ := strings.Cut(section, "/")
	return strings.TrimSuffix(kind, ".s")
}

// kernelLoadReason names why the kernel could not load a program of the
// section kind (an error other than a verifier error).
func kernelLoadReason(kind string, err error) string {
	msg := err.Error()
	trampoline := kind == "fentry" || kind == "fexit" || kind == "fmod_ret" || kind == "lsm" || kind == "freplace"
	switch {
	case strings.Contains(msg, "resolve .kconfig"):
		return "cilium/ebpf cannot fill a typedef'd __kconfig variable"
	case trampoline && errors.Is(err, ebpf.ErrNotSupported):
		return "attach target not in this kernel"
	case trampoline && errors.Is(err, unix.EPERM):
		return "no BPF trampolines here (EPERM: no ftrace direct calls)"
	case errors.Is(err, ebpf.ErrNotSupported):
		return "not supported by this kernel"
	}
	msg = firstLine(msg)
	if len(msg) > 70 {
		msg = msg[:70] + "..."
	}
	return msg
}

// kernelSpec adjusts an object for loading in the kernel as its tool
// would: maps whose size the tool sets at run time (max_entries 0 as
// compiled) get one entry, and __kconfig variables declared through a
// typedef (__u32), which libbpf fills and cilium/ebpf refuses, get the
// typedef's underlying type.
func kernelSpec(spec *ebpf.CollectionSpec) {
	for _, m := range spec.Maps {
		if m.MaxEntries == 0 && m.Type != ebpf.RingBuf && m.Type != ebpf.PerfEventArray {
			m.MaxEntries = 1
		}
		if m.Type == ebpf.StackTrace && m.ValueSize == 0 {
			m.ValueSize = 127 * 8 // PERF_MAX_STACK_DEPTH addresses, the tools' default
		}
	}
	var ds *btf.Datasec
	if spec.Types == nil || spec.Types.TypeByName(".kconfig", &ds) != nil {
		return
	}
	for i := range ds.Vars {
		if v, ok := ds.Vars[i].Type.(*btf.Var); ok {
			v.Type = btf.UnderlyingType(v.Type)
		}
	}
}

func libbpfToolsObject(t *testing.T, path string, counts map[string]*toolsRow) {
	spec, err := LoadCollectionSpec(path)
	if err != nil {
		t.Logf("%s: %v", filepath.Base(path), err)
		return
	}
	kspec, kerr := ebpf.LoadCollectionSpec(path)
	if kerr == nil {
		kernelSpec(kspec)
	}
	for _, ps := range spec.Programs {
		kind := toolsSectionKind(ps.Section)
		where := fmt.Sprintf("%s %s (%s)", filepath.Base(path), ps.Name, elfSection(ps))
		bv := bpfhostVerdict(t, where, spec, ps)
		kv, why := "cannot load", "cilium/ebpf cannot parse the object"
		if kerr == nil {
			kv, why = kernelLoadVerdict(t, where, kind, onlyProgram(kspec, ps.Name))
		}
		countVerdicts(t, counts, kind, where, bv, kv, why)
	}
}

// bpfhostVerdict verifies ps as bpfhost's load path would and returns
// its verdict (bpfhostErrVerdict).
func bpfhostVerdict(t *testing.T, where string, spec *CollectionSpec, ps *ProgramSpec) string {
	info, _, err := ProgramType(ps, nil)
	if err == nil {
		err = VerifyProgram(spec, ps, info, nil)
	}
	return bpfhostErrVerdict(t, where, err)
}

// onlyProgram returns a copy of kspec with only the program name.
func onlyProgram(kspec *ebpf.CollectionSpec, name string) *ebpf.CollectionSpec {
	one := kspec.Copy()
	for n := range one.Programs {
		if n != name {
			delete(one.Programs, n)
		}
	}
	return one
}

// kernelLoadVerdict loads the collection one in the kernel and returns
// its verdict (kernelErrVerdict).
func kernelLoadVerdict(t *testing.T, where, kind string, one *ebpf.CollectionSpec) (verdict, why string) {
	c, err := ebpf.NewCollection(one)
	if err == nil {
		c.Close()
		return "accepts", ""
	}
	return kernelErrVerdict(t, where, kind, err)
}

// kernelErrVerdict is the kernel's verdict on a program whose load failed
// with err: "rejects" (its verifier refused it) or "cannot load" with the
// reason (kernelLoadReason of the section kind); it logs why.
func kernelErrVerdict(t *testing.T, where, kind string, err error) (verdict, why string) {
	var ve *ebpf.VerifierError
	switch {
	case errors.As(err, &ve) && len(ve.Log) == 0:
		// Refused before the verifier ran (it always logs): a program
		// type or attach type this kernel lacks (lirc_mode2 without
		// CONFIG_BPF_LIRC_MODE2).
		t.Logf("%s: kernel cannot load: %s", where, firstLine(err.Error()))
		return "cannot load", "refused before verification (no verifier log): type not in this kernel"
	case errors.As(err, &ve) && kernelFinding(ve.Log) == "(no log)":
		// A log of statistics only ("processed 0 insns"): refused before
		// the verifier looked at an instruction (a sleepable iterator
		// that this kernel does not let load: EPERM).
		t.Logf("%s: kernel cannot load: %s", where, firstLine(err.Error()))
		return "cannot load", "refused before verification (no finding in the verifier log)"
	case errors.As(err, &ve) && configuredHelper(err.Error()) != "":
		// The helper exists in Linux, but not in this kernel's
		// configuration: not a verdict on the program.
		t.Logf("%s: kernel cannot load: %s", where, firstLine(err.Error()))
		return "cannot load", configuredHelper(err.Error())
	case errors.As(err, &ve) && strings.Contains(err.Error(), "load BTF"):
		// The kernel refuses the object's BTF, before any program.
		t.Logf("%s: kernel cannot load: %s", where, firstLine(err.Error()))
		return "cannot load", "the kernel refuses the object's BTF"
	case errors.As(err, &ve):
		t.Logf("%s: kernel rejects: %s", where, kernelFinding(ve.Log))
		return "rejects", ""
	}
	t.Logf("%s: kernel cannot load: %s", where, firstLine(err.Error()))
	return "cannot load", kernelLoadReason(kind, err)
}

// countVerdicts adds bpfhost's verdict bv and the kernel's kv (with why
// when the kernel cannot load it) to the row of kind, and fails the test
// where bpfhost accepts what the kernel's verifier refuses.
func countVerdicts(t *testing.T, counts map[string]*toolsRow, kind, where, bv, kv, why string) {
	if toolsRowOf(counts, kind).tally(bv, kv, why) {
		t.Logf("%s: DIFFER: bpfhost %s, kernel %s", where, bv, kv)
	}
	if bv == "accepts" && kv == "rejects" {
		t.Errorf("%s: bpfhost accepts what the kernel's verifier refuses", where)
	}
}

// tally adds bpfhost's verdict bv and the kernel's kv (with why when the
// kernel cannot load it) to r, and reports whether the verdicts differ.
func (r *toolsRow) tally(bv, kv, why string) (differ bool) {
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
	case bv == "accepts":
		r.looser++
		return true
	default:
		r.stricter++
		return true
	}
	return false
}

// configuredHelpers are the helpers that Linux offers a program type only
// in some kernel configurations, with the configuration that withholds
// them.
var configuredHelpers = map[string]string{
	"bpf_override_return":      "CONFIG_BPF_KPROBE_OVERRIDE is not set",
	"bpf_probe_write_user":     "kernel lockdown withholds it",
	"bpf_lwt_seg6_adjust_srh":  "CONFIG_IPV6_SEG6_BPF is not set",
	"bpf_lwt_seg6_store_bytes": "CONFIG_IPV6_SEG6_BPF is not set",
	"bpf_lwt_seg6_action":      "CONFIG_IPV6_SEG6_BPF is not set",
}

// configuredHelper returns why the kernel's verifier log msg refuses a
// helper that this kernel's configuration withholds
// (configuredHelpers), or "".
func configuredHelper(msg string) string {
	_, rest, ok := strings.Cut(msg, "program of this type cannot use helper ")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "#")
	if why, ok := configuredHelpers[name]; ok {
		return "helper " + name + " not in this kernel (" + why + ")"
	}
	return ""
}
