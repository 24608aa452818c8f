package bpfhost

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
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

// TestLibbpfTools verifies the BTF-typed programs (fentry, fexit, tp_btf,
// lsm, iter) of the BPF objects that the libbpf-tools binaries in
// -libbpftools embed, against the running kernel's BTF, and loads each in
// the kernel: it reports how many verdicts agree, and fails where bpfhost
// accepts a program the kernel's verifier refuses. It is a measurement
// (skipped without the flag), e.g.
//
//	apt-get install libbpf-tools
//	go test -run TestLibbpfTools -libbpftools /usr/sbin -v .
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
	counts := map[string]int{}
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
	var keys []string
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("%4d %s", counts[k], k)
	}
}

func libbpfToolsObject(t *testing.T, path string, counts map[string]int) {
	spec, err := LoadCollectionSpec(path)
	if err != nil {
		t.Logf("%s: %v", filepath.Base(path), err)
		return
	}
	kspec, kerr := ebpf.LoadCollectionSpec(path)
	for _, ps := range spec.Programs {
		kind, _, _ := strings.Cut(ps.Section, "/")
		switch strings.TrimSuffix(kind, ".s") {
		case "fentry", "fexit", "fmod_ret", "tp_btf", "lsm", "iter":
		default:
			continue
		}
		info, _, err := ProgramType(ps, nil)
		if err != nil {
			continue
		}
		bv := "accepts"
		if err := VerifyProgram(spec, ps, info, nil); err != nil {
			var ve *VerifierError
			bv = "rejects"
			if !errors.As(err, &ve) {
				bv = "cannot verify"
			}
			t.Logf("%s %s (%s): bpfhost %s: %s", filepath.Base(path), ps.Name, ps.Section, bv, firstLine(err.Error()))
		}
		kv := "cannot load"
		if kerr == nil {
			one := kspec.Copy()
			for n := range one.Programs {
				if n != ps.Name {
					delete(one.Programs, n)
				}
			}
			c, err := ebpf.NewCollection(one)
			var ve *ebpf.VerifierError
			switch {
			case err == nil:
				kv = "accepts"
				c.Close()
			case errors.As(err, &ve):
				kv = "rejects"
				t.Logf("%s %s (%s): kernel rejects: %s", filepath.Base(path), ps.Name, ps.Section, firstLine(err.Error()))
			}
		}
		counts[kind+": bpfhost "+bv+", kernel "+kv]++
		if bv == "accepts" && kv == "rejects" {
			t.Errorf("%s %s (%s): bpfhost accepts what the kernel's verifier refuses", filepath.Base(path), ps.Name, ps.Section)
		}
	}
}
