package bpfhost

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/rlimit"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/object"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/verifier"
)

// kernelVerificationTime is the stats line of the kernel's verifier log.
var kernelVerificationTime = regexp.MustCompile(`verification time (\d+) usec`)

// benchProgram is one program of the corpus both verifiers verify.
type benchProgram struct {
	key    string
	ps     *ProgramSpec
	opts   verifier.Options
	kernel *ebpf.ProgramSpec
}

// kernelObject holds the kernel maps an object's programs refer to.
type kernelObject struct {
	maps []*ebpf.Map
}

func (k *kernelObject) close() {
	for _, m := range k.maps {
		if m != nil {
			m.Close()
		}
	}
}

// newKernelObject creates a kernel map for each map of spec.
func newKernelObject(spec *CollectionSpec) (*kernelObject, error) {
	k := &kernelObject{}
	for _, ms := range spec.Maps {
		m, err := ebpf.NewMap(kernelMapSpec(ms))
		if err != nil {
			k.close()
			return nil, fmt.Errorf("map %s: %w", ms.Name, err)
		}
		k.maps = append(k.maps, m)
	}
	return k, nil
}

func kernelMapSpec(ms *MapSpec) *ebpf.MapSpec {
	s := &ebpf.MapSpec{Name: sanitizeMapName(ms.Name), Type: ebpf.MapType(ms.Type), KeySize: ms.KeySize,
		ValueSize: ms.ValueSize, MaxEntries: ms.MaxEntries, Flags: ms.Flags, MapExtra: ms.MapExtra}
	if ms.InnerMap != nil {
		s.InnerMap = kernelMapSpec(ms.InnerMap)
	}
	return s
}

// sanitizeMapName keeps what the kernel allows in a map name.
func sanitizeMapName(name string) string {
	var b strings.Builder
	for _, c := range name {
		if b.Len() == 15 {
			break
		}
		if c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// kernelProgram turns program ps, verified as info, into what the kernel
// loads: map references by index become references by file descriptor.
func (k *kernelObject) kernelProgram(ps *ProgramSpec, info *platform.ProgramTypeInfo) (*ebpf.ProgramSpec, error) {
	if len(ps.CORE) > 0 {
		return nil, errors.New("CO-RE relocations")
	}
	insns := append([]isa.Instruction(nil), ps.Instructions...)
	for _, ref := range ps.References {
		if ref.Kind != object.RefMap && ref.Kind != object.RefMapValue {
			return nil, fmt.Errorf("reference to %s", ref.Name)
		}
		if ref.Map < 0 || ref.Map >= len(k.maps) || ref.Slot+1 >= len(insns) {
			return nil, fmt.Errorf("bad reference to %s", ref.Name)
		}
		insns[ref.Slot].Src = isa.PseudoMapFD
		if ref.Kind == object.RefMapValue {
			insns[ref.Slot].Src = isa.PseudoMapValue
		}
		insns[ref.Slot].Imm = int32(k.maps[ref.Map].FD())
	}
	decoded, err := asm.AppendInstructions(nil, bytes.NewReader(isa.Encode(insns)), binary.LittleEndian, "linux")
	if err != nil {
		return nil, err
	}
	return &ebpf.ProgramSpec{Name: sanitizeMapName(ps.Name), Type: ebpf.ProgramType(info.Type), AttachType: ebpf.AttachType(info.Attach),
		Instructions: decoded, License: ps.License, KernelVersion: ps.KernelVersion}, nil
}

// kernelVerify loads p into the kernel and returns the verification time
// its log reports, whether it accepted the program or not.
func kernelVerify(p *ebpf.ProgramSpec) (time.Duration, bool, error) {
	prog, err := ebpf.NewProgramWithOptions(p, ebpf.ProgramOptions{LogLevel: ebpf.LogLevelStats, LogSizeStart: 1 << 16})
	var log string
	if err == nil {
		log = prog.VerifierLog
		prog.Close()
	} else {
		var ve *ebpf.VerifierError
		if !errors.As(err, &ve) {
			return 0, false, err
		}
		log = strings.Join(ve.Log, "\n")
	}
	m := kernelVerificationTime.FindStringSubmatch(log)
	if m == nil {
		return 0, false, fmt.Errorf("no verification time in the kernel's log: %v", err)
	}
	us, _ := strconv.ParseInt(m[1], 10, 64)
	return time.Duration(us) * time.Microsecond, err == nil, nil
}

// realworldBenchSet returns the programs of the corpus that load in bpfhost
// and that the kernel verifies (accepting or rejecting them), with the kernel
// maps they need; close releases them.
func realworldBenchSet(b *testing.B, dir string) (set []benchProgram, close func()) {
	rows := readRealworldExpect(b, dir)
	if err := rlimit.RemoveMemlock(); err != nil {
		b.Skipf("bpf() not permitted here, no kernel to compare with: %v", err)
	}
	specs := map[string]*CollectionSpec{}
	objects := map[string]*kernelObject{}
	close = func() {
		for _, k := range objects {
			k.close()
		}
	}
	skipped := map[string]int{}
	disagree := 0
	for _, r := range rows {
		spec, seen := specs[r.file]
		if !seen {
			spec, _ = loadRealworldObject(filepath.Join(dir, r.file))
			specs[r.file] = spec
			if spec != nil {
				k, err := newKernelObject(spec)
				if err != nil {
					b.Logf("%s: %v", r.file, err)
				} else {
					objects[r.file] = k
				}
			}
		}
		k := objects[r.file]
		if spec == nil || k == nil {
			skipped["object does not load"]++
			continue
		}
		ps := realworldProgram(spec, r)
		if ps == nil {
			skipped["program missing"]++
			continue
		}
		info, ok := realworldType(ps, r)
		if !ok {
			skipped["unknown type"]++
			continue
		}
		kp, err := k.kernelProgram(ps, info)
		accepted := false
		if err == nil {
			_, accepted, err = kernelVerify(kp)
		}
		if err == nil && accepted != (r.expect == "accept") {
			disagree++
			b.Logf("%s: this kernel accepts it: %v, expect.csv (Linux 6.18): %s", r.key(), accepted, r.expect)
		}
		if err != nil {
			skipped["kernel cannot verify it"]++
			b.Logf("%s: kernel: %v", r.key(), err)
			continue
		}
		opts := VerifierOptions(spec, ps, info)
		opts.Timeout = realworldTimeout
		set = append(set, benchProgram{key: r.key(), ps: ps, opts: opts, kernel: kp})
	}
	b.Logf("%d programs of %d verified by both; left out: %v; verdicts of this kernel unlike expect.csv's: %d", len(set), len(rows), skipped, disagree)
	return set, close
}

// BenchmarkRealWorldVsKernel verifies every program of the real-world
// corpus (../shared/realworld) that both bpfhost and the running kernel can
// verify, with bpfhost's verifier and with the kernel's, side by side: one
// op is the whole set. The kernel's side is the verification time its stats
// log reports, so both measure verification only (not map creation or
// loading). Objects that bpfhost cannot load yet are left out of both.
//
//	go test -run '^$' -bench RealWorldVsKernel -benchtime 5x .
func BenchmarkRealWorldVsKernel(b *testing.B) {
	set, close := realworldBenchSet(b, *realworldBenchDir)
	defer close()
	if len(set) == 0 {
		b.Skip("no program of the corpus loads in both bpfhost and the kernel")
	}
	insns := 0
	for _, p := range set {
		insns += len(p.ps.Instructions)
	}
	b.Run("bpfhost", func(b *testing.B) {
		slowest, slowestKey := time.Duration(0), ""
		processed := 0
		for b.Loop() {
			processed = 0
			for _, p := range set {
				start := time.Now()
				res, _ := verifier.Verify(p.ps.Instructions, p.opts)
				if d := time.Since(start); d > slowest {
					slowest, slowestKey = d, p.key
				}
				if res != nil {
					processed += res.Processed
				}
			}
		}
		b.ReportMetric(float64(processed), "processed")
		b.ReportMetric(float64(len(set)), "programs")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(insns), "ns/insn")
		b.ReportMetric(float64(slowest.Microseconds()), "slowest-us")
		b.Logf("slowest: %s (%v)", slowestKey, slowest)
	})
	b.Run("kernel", func(b *testing.B) {
		var total time.Duration
		for b.Loop() {
			for _, p := range set {
				d, _, err := kernelVerify(p.kernel)
				if err != nil {
					b.Fatalf("%s: %v", p.key, err)
				}
				total += d
			}
		}
		b.ReportMetric(float64(len(set)), "programs")
		b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "verify-ns/op")
		b.ReportMetric(float64(total.Nanoseconds())/float64(b.N)/float64(insns), "verify-ns/insn")
	})
}

var realworldBenchDir = flag.String("realworld.dir", realworldDir, "corpus of BenchmarkRealWorldVsKernel: a folder with expect.csv")
