package bpfhost

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/rlimit"
)

// xdpToolsPaths lists the files and directories whose BPF objects
// TestXDPTools measures.
var xdpToolsPaths = flag.String("xdptools", "", "list of files and directories (separated by "+string(filepath.ListSeparator)+") holding xdp-tools' BPF objects, as files or embedded in binaries, for TestXDPTools")

// TestXDPTools verifies every program of the BPF objects that xdp-tools and
// libxdp ship (Debian's xdp-tools, libxdp1: the objects under
// /usr/lib/<arch>/bpf and those embedded in the tools' binaries, each
// distinct object once) and loads each in the kernel as libbpf and libxdp
// would:
//
//   - XDP programs with the attach type of their section (xdp, xdp/devmap,
//     xdp/cpumap, xdp.frags: BPF_F_XDP_HAS_FRAGS), maps pinned by name
//     unpinned (pinning does not change a verdict);
//   - libxdp attaches a program of section "xdp" to its dispatcher as an
//     extension (freplace) of one of the dispatcher's prog0..prog9
//     functions: where the corpus holds a dispatcher, each such program is
//     also loaded as BPF_PROG_TYPE_EXT replacing prog0 (row "xdp>ext",
//     compared with bpfhost's XDP verdict);
//   - fentry/fexit programs whose section names no kernel function
//     (xdpdump's "fentry/func") attach to an XDP program's entry function,
//     which xdpdump picks at run time: here, the dispatcher's.
//
// It prints a table per section kind (see logToolsTable) and fails only
// where bpfhost accepts what the kernel refuses. It is a measurement
// (skipped without the flag), e.g.
//
//	apt-get install xdp-tools libxdp1
//	go test -count=1 -run TestXDPTools -v . -xdptools \
//	  $(dpkg -L xdp-tools libxdp1 | grep -E '/sbin/|[.]o$' | paste -sd:)
func TestXDPTools(t *testing.T) {
	objs := corpusObjects(t, "xdptools", *xdpToolsPaths)
	dispatcher, entry := xdpDispatcher(t, objs)
	if dispatcher != nil {
		defer dispatcher.Close()
	}
	counts := map[string]*toolsRow{}
	loads := map[string]int{}
	for _, path := range objs {
		xdpToolsObject(t, path, dispatcher, entry, counts, loads)
	}
	t.Logf("%d distinct objects; the dispatcher for freplace and fentry targets: %v", len(objs), dispatcher)
	logToolsTable(t, "kind", counts)
	var why []string
	for k, n := range loads {
		why = append(why, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(why)
	t.Logf("bpfhost NewCollection of each object with the programs it accepts: %s", strings.Join(why, "; "))
}

// corpusObjects returns the BPF objects (xdpToolsObjects) of a corpus
// test's -flag paths (a list like $PATH), skipping the test, with the
// reason, without them or without bpf(), and failing it when they hold no
// object.
func corpusObjects(t *testing.T, flag, paths string) []string {
	t.Helper()
	if paths == "" {
		t.Skipf("no -%s paths", flag)
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here: %v", err)
	}
	objs := xdpToolsObjects(t, filepath.SplitList(paths))
	if len(objs) == 0 {
		t.Fatalf("no BPF objects in %s", paths)
	}
	return objs
}

// xdpToolsObjects returns the paths of the distinct BPF objects in paths:
// BPF ELF files as they are, and the objects other files embed
// (embeddedBPF: binaries, shared libraries, archives such as libxdp.a)
// written to a temporary directory. A directory stands for the regular
// files in it.
func xdpToolsObjects(t *testing.T, paths []string) []string {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Type().IsRegular() {
				files = append(files, filepath.Join(p, e.Name()))
			}
		}
	}
	sort.Strings(files)
	dir := t.TempDir()
	seen := map[[32]byte]bool{}
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if len(data) >= 64 && bytes.HasPrefix(data, []byte("\x7fELF")) && binary.LittleEndian.Uint16(data[18:]) == 247 { // EM_BPF
			if h := sha256.Sum256(data); !seen[h] {
				seen[h] = true
				out = append(out, f)
			}
			continue
		}
		for k, obj := range embeddedBPF(data) {
			h := sha256.Sum256(obj)
			if seen[h] {
				continue
			}
			seen[h] = true
			path := filepath.Join(dir, fmt.Sprintf("%s-%d.bpf.o", filepath.Base(f), k))
			if err := os.WriteFile(path, obj, 0o600); err != nil {
				t.Fatal(err)
			}
			out = append(out, path)
		}
	}
	return out
}

// xdpDispatcher loads libxdp's dispatcher in the kernel, if one of objs is
// one: an XDP program whose object has a global function prog0, which
// libxdp's protocol replaces with the first component program. It returns
// nil if there is none or the kernel cannot load it, and otherwise its entry
// function's name.
func xdpDispatcher(t *testing.T, objs []string) (*ebpf.Program, string) {
	for _, path := range objs {
		spec, err := ebpf.LoadCollectionSpec(path)
		if err != nil {
			continue
		}
		for name, p := range spec.Programs {
			if p.Type != ebpf.XDP || !hasFunction(p, "prog0") {
				continue
			}
			one := onlyProgram(spec, name)
			kernelSpec(one)
			c, err := ebpf.NewCollection(one)
			if err != nil {
				t.Logf("%s: dispatcher %s: kernel cannot load: %s", filepath.Base(path), name, firstLine(err.Error()))
				continue
			}
			prog := c.Programs[name]
			delete(c.Programs, name)
			c.Close()
			t.Logf("dispatcher: %s %s", filepath.Base(path), name)
			return prog, name
		}
	}
	return nil, ""
}

// hasFunction reports whether p's instructions include the function name.
func hasFunction(p *ebpf.ProgramSpec, name string) bool {
	for _, ins := range p.Instructions {
		if ins.Symbol() == name {
			return true
		}
	}
	return false
}

// xdpToolsObject measures the programs of one object (TestXDPTools).
// loads counts the objects bpfhost's NewCollection loads ("loaded") or
// not (by reason), each with the programs bpfhost accepts and its maps
// sized as its tool sizes them (kernelSpec's rule).
func xdpToolsObject(t *testing.T, path string, dispatcher *ebpf.Program, entry string, counts map[string]*toolsRow, loads map[string]int) {
	spec, kspec, kerr := corpusSpecs(t, path, loads)
	if spec == nil {
		return
	}
	var accepted []string
	defer func() { xdpToolsLoad(t, path, spec, accepted, loads) }()
	for _, ps := range spec.Programs {
		kind := toolsSectionKind(ps.Section)
		where := fmt.Sprintf("%s %s (%s)", filepath.Base(path), ps.Name, elfSection(ps))
		bv := bpfhostVerdict(t, where, spec, ps)
		if bv == "accepts" {
			accepted = append(accepted, ps.Name)
		}
		if kerr != nil {
			countVerdicts(t, counts, kind, where, bv, "cannot load", "cilium/ebpf cannot parse the object")
			continue
		}
		one := onlyProgram(kspec, ps.Name)
		kp := one.Programs[ps.Name]
		if (kp.Type == ebpf.Tracing) && strings.HasSuffix(ps.Section, "/func") {
			// xdpdump's placeholder: its target is an XDP program's
			// entry function, set at run time.
			if dispatcher == nil {
				countVerdicts(t, counts, kind, where, bv, "cannot load", "attaches to an XDP program: no dispatcher in the corpus")
				continue
			}
			kp.AttachTarget = dispatcher
			kp.AttachTo = entry
		}
		kv, why := kernelLoadVerdict(t, where, kind, one)
		countVerdicts(t, counts, kind, where, bv, kv, why)
		if kp.Type == ebpf.XDP && hasFunction(kp, "prog0") {
			xdpDispatcherEnabled(t, spec, ps, kspec, where, counts)
		}
		if kp.Type != ebpf.XDP || kp.AttachType != ebpf.AttachXDP || dispatcher == nil || hasFunction(kp, "prog0") {
			continue
		}
		ext := onlyProgram(kspec, ps.Name)
		ep := ext.Programs[ps.Name]
		ep.Type, ep.AttachType, ep.AttachTarget, ep.AttachTo = ebpf.Extension, ebpf.AttachNone, dispatcher, "prog0"
		kv, why = kernelLoadVerdict(t, where+" as freplace of prog0", "freplace", ext)
		countVerdicts(t, counts, kind+">ext", where+" as freplace of prog0", bv, kv, why)
	}
}

// TestXDPToolsKernel loads each program of xdpToolsShapes in the running
// kernel and checks that the kernel's verdict is the one
// TestXDPToolsShapes wants from bpfhost.
func TestXDPToolsKernel(t *testing.T) {
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here: %v", err)
	}
	for _, tt := range xdpToolsShapes {
		kspec, err := ebpf.LoadCollectionSpec("testdata/xdptools/" + tt.object)
		if err != nil {
			t.Fatal(err)
		}
		where := tt.object + " " + tt.program
		kv, why := kernelLoadVerdict(t, where, "xdp", onlyProgram(kspec, tt.program))
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

// xdpToolsLoad loads the programs accepted of spec with NewCollection and
// counts the outcome in loads. Maps with max_entries 0, which the tools
// size at run time, get one entry, as kernelSpec gives them.
func xdpToolsLoad(t *testing.T, path string, spec *CollectionSpec, accepted []string, loads map[string]int) {
	if len(accepted) == 0 {
		loads["with no program bpfhost accepts"]++
		return
	}
	for _, m := range spec.Maps {
		if m.MaxEntries == 0 && m.Type != uint32(linux.MapRingBuf) && m.Type != uint32(linux.MapPerfEventArray) {
			m.MaxEntries = 1
		}
	}
	c, err := NewCollection(spec, &CollectionOptions{Programs: accepted})
	if err != nil {
		t.Logf("%s: bpfhost cannot load the programs it accepts: %v", filepath.Base(path), err)
		loads["cannot load: "+firstLine(err.Error())]++
		return
	}
	c.Close()
	loads["loaded"]++
}

// xdpDispatcherEnabled verifies and loads libxdp's dispatcher ps as libxdp
// configures it before loading it for ten component programs: its
// read-only "conf" with num_progs_enabled 10 and each chain_call_actions
// entry XDP_PASS (found by name in the object's BTF, as libxdp's protocol
// names them), so that every call to prog0..prog9 is live (row
// "xdp(conf)"). As compiled, no program is enabled and the calls are dead
// code.
func xdpDispatcherEnabled(t *testing.T, spec *CollectionSpec, ps *ProgramSpec, kspec *ebpf.CollectionSpec, where string, counts map[string]*toolsRow) {
	var ds *btf.Datasec
	if kspec.Types == nil || kspec.Types.TypeByName(".rodata", &ds) != nil || kspec.Maps[".rodata"] == nil {
		return
	}
	var conf []byte
	for _, v := range ds.Vars {
		vr, ok := v.Type.(*btf.Var)
		st, isStruct := btf.UnderlyingType(vr.Type).(*btf.Struct)
		if !ok || vr.Name != "conf" || !isStruct {
			continue
		}
		rodata := kspec.Maps[".rodata"].Contents[0].Value.([]byte)
		conf = append([]byte(nil), rodata...)
		for _, m := range st.Members {
			off := int(v.Offset) + int(m.Offset.Bytes())
			switch m.Name {
			case "num_progs_enabled":
				conf[off] = 10
			case "chain_call_actions":
				for i := 0; i < 10; i++ {
					binary.NativeEndian.PutUint32(conf[off+4*i:], 1<<2) // XDP_PASS
				}
			}
		}
	}
	if conf == nil {
		return
	}
	where += " with 10 programs enabled"
	one := onlyProgram(kspec, ps.Name)
	one.Maps[".rodata"].Contents[0].Value = conf
	kv, why := kernelLoadVerdict(t, where, "xdp", one)
	for _, m := range spec.Maps {
		if m.Name == ".rodata" && len(m.Data) == len(conf) {
			saved := m.Data
			m.Data = conf
			defer func() { m.Data = saved }()
		}
	}
	bv := bpfhostVerdict(t, where, spec, ps)
	countVerdicts(t, counts, "xdp(conf)", where, bv, kv, why)
}
