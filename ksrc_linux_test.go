package bpfhost

import (
	"flag"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/rlimit"
)

// ksrcPaths lists the files and directories whose BPF objects
// TestKernelSource measures.
var ksrcPaths = flag.String("ksrc", "", "list of files and directories (separated by "+string(filepath.ListSeparator)+") holding BPF objects built from a Linux source tree (scripts/ksrc.sh) or embedded in binaries (systemd), for TestKernelSource")

// ksrcExplained lists the programs (object file, program name) that bpfhost
// accepts and the kernel's verifier refuses, each with the documented
// reason bpfhost is right to accept it. TestKernelSource fails on any
// other such program.
var ksrcExplained = map[string]string{}

// TestKernelSource verifies every program of the BPF objects in -ksrc
// (Linux 6.12's samples/bpf and selftests' progs as scripts/ksrc.sh builds
// them, systemd's objects embedded in its shared libraries) and loads each
// in the running kernel as libbpf would (kernelSpec's adjustments; the
// test_prog_flags a selftest annotates, such as BPF_F_ANY_ALIGNMENT). It
// prints a table per section kind (logToolsTable), the objects bpfhost
// cannot read or load, and, for the programs annotated __success or
// __failure (the selftests' verifier_*.c), how bpfhost's verdict compares
// with the annotation (Linux 6.12's verdict; the running kernel may differ).
// It fails only where bpfhost accepts what the kernel refuses and
// ksrcExplained gives no reason. It is a measurement (skipped without the
// flag), e.g.
//
//	scripts/ksrc.sh /tmp/bpfhost-ksrc
//	go test -count=1 -run TestKernelSource -v . -ksrc \
//	  /tmp/bpfhost-ksrc/samples:/tmp/bpfhost-ksrc/progs:/usr/lib/x86_64-linux-gnu/systemd
func TestKernelSource(t *testing.T) {
	if *ksrcPaths == "" {
		t.Skip("no -ksrc paths")
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here: %v", err)
	}
	objs := xdpToolsObjects(t, filepath.SplitList(*ksrcPaths))
	if len(objs) == 0 {
		t.Fatalf("no BPF objects in %s", *ksrcPaths)
	}
	counts := map[string]*toolsRow{}
	loads := map[string]int{}
	notes := map[string]int{}
	for _, path := range objs {
		ksrcObject(t, path, counts, loads, notes)
	}
	t.Logf("%d distinct objects", len(objs))
	logToolsTable(t, counts)
	t.Logf("bpfhost NewCollection of each object with the programs it accepts: %s", countList(loads))
	t.Logf("bpfhost against the selftests' annotations: %s", countList(notes))
}

// countList formats counts as "n key; ..." sorted by key.
func countList(counts map[string]int) string {
	var out []string
	for k, n := range counts {
		out = append(out, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// ksrcObject measures the programs of one object (TestKernelSource).
func ksrcObject(t *testing.T, path string, counts map[string]*toolsRow, loads, notes map[string]int) {
	base := filepath.Base(path)
	spec, err := LoadCollectionSpec(path)
	if err != nil {
		t.Logf("%s: bpfhost cannot read the object: %v", base, err)
		loads["cannot read: "+firstLine(err.Error())]++
		return
	}
	kspec, kerr := ebpf.LoadCollectionSpec(path)
	if kerr == nil {
		kernelSpec(kspec)
		for _, m := range kspec.Maps {
			m.Pinning = ebpf.PinNone
		}
	}
	var accepted []string
	defer func() { xdpToolsLoad(t, path, spec, accepted, loads) }()
	for _, ps := range spec.Programs {
		kind := toolsSectionKind(strings.TrimPrefix(ps.Section, "?"))
		where := fmt.Sprintf("%s %s (%s)", base, ps.Name, ps.Section)
		bv := bpfhostVerdict(t, where, spec, ps)
		if bv == "accepts" {
			accepted = append(accepted, ps.Name)
		}
		kv, why := "cannot load", "cilium/ebpf cannot parse the object"
		if kerr == nil {
			one := onlyProgram(kspec, ps.Name)
			want := selftestAnnotation(t, where, one.Programs[ps.Name])
			if want != "" && bv != "cannot verify" {
				if bv == want {
					notes["agree"]++
				} else {
					notes["bpfhost "+bv+", annotated "+want]++
					t.Logf("%s: ANNOTATION: bpfhost %s, Linux 6.12's test expects it %s", where, bv, want)
				}
			}
			kv, why = kernelLoadVerdict(t, where, kind, one)
		}
		if reason, ok := ksrcExplained[base+" "+ps.Name]; ok && bv == "accepts" && kv == "rejects" {
			t.Logf("%s: bpfhost accepts what the kernel refuses: %s", where, reason)
			kv, why = "cannot load", "bpfhost accepts, a documented difference"
		}
		countVerdicts(t, counts, kind, where, bv, kv, why)
	}
}

// selftestAnnotation returns the verdict a selftest's program is annotated
// with (bpf_misc.h's __success, __failure: decl tags on its function,
// "accepts" or "rejects"; "" if none), and sets p's flags from its
// __flag annotations, as the selftests' loader does.
func selftestAnnotation(t *testing.T, where string, p *ebpf.ProgramSpec) string {
	if len(p.Instructions) == 0 {
		return ""
	}
	fn := btf.FuncMetadata(&p.Instructions[0])
	if fn == nil {
		return ""
	}
	flags := map[string]uint32{
		"BPF_F_STRICT_ALIGNMENT":    1 << 0,
		"BPF_F_ANY_ALIGNMENT":       1 << 1,
		"BPF_F_TEST_RND_HI32":       1 << 2,
		"BPF_F_TEST_STATE_FREQ":     1 << 3,
		"BPF_F_SLEEPABLE":           1 << 4,
		"BPF_F_XDP_HAS_FRAGS":       1 << 5,
		"BPF_F_TEST_REG_INVARIANTS": 1 << 7,
	}
	want := ""
	for _, tag := range fn.Tags {
		switch {
		case tag == "comment:test_expect_success":
			want = "accepts"
		case tag == "comment:test_expect_failure":
			want = "rejects"
		case strings.HasPrefix(tag, "comment:test_prog_flags="):
			name := strings.TrimPrefix(tag, "comment:test_prog_flags=")
			if f, ok := flags[name]; ok {
				p.Flags |= f
			} else {
				t.Logf("%s: flag %s not known here", where, name)
			}
		}
	}
	return want
}

// TestKernelSourceShapesKernel loads each program of ksrcShapes in the
// running kernel and checks that the kernel's verdict is the one
// TestKernelSourceShapes wants from bpfhost.
func TestKernelSourceShapesKernel(t *testing.T) {
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here: %v", err)
	}
	for _, tt := range ksrcShapes {
		kspec, err := ebpf.LoadCollectionSpec("testdata/ksrc/" + tt.object)
		if err != nil {
			t.Fatal(err)
		}
		where := tt.object + " " + tt.program
		kv, why := kernelLoadVerdict(t, where, toolsSectionKind(kspec.Programs[tt.program].SectionName), onlyProgram(kspec, tt.program))
		want := "accepts"
		if tt.refuse != "" {
			want = "rejects"
		}
		switch {
		case kv == "cannot load":
			t.Logf("%s: the kernel cannot load it here: %s", where, why)
		case kv != want:
			t.Errorf("%s: kernel %s, bpfhost's expected verdict %s", where, kv, want)
		}
	}
}
