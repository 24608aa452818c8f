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
	table := newCorpusTable()
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
			libbpfToolsObject(t, path, table)
		}
	}
	table.log(t, "kind")
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
	trampoline := kind == "fentry" || kind == "fexit" || kind == "fmod_ret" || kind == "lsm"
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

func libbpfToolsObject(t *testing.T, path string, table *corpusTable) {
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
		where := fmt.Sprintf("%s %s (%s)", filepath.Base(path), ps.Name, ps.Section)
		info, _, err := ProgramType(ps, nil)
		if err == nil {
			err = VerifyProgram(spec, ps, info, nil)
		}
		bv := bpfhostVerdict(t, where, err)
		kv, why := "cannot load", "cilium/ebpf cannot parse the object"
		if kerr == nil {
			kv, why, _ = kernelVerdictAlone(t, where, kspec, ps.Name, kind, nil)
		}
		table.record(t, kind, where, bv, kv, why)
	}
}
