package bpfhost

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
)

// bpfhostErrVerdict is bpfhost's verdict on a program whose verification
// (program type, then verifier) ended with err: "accepts", "rejects" (a
// *VerifierError) or "cannot verify" (anything else); it logs why.
func bpfhostErrVerdict(t *testing.T, where string, err error) string {
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
	one := onlyProgram(kspec, name)
	p := one.Programs[name]
	if p == nil {
		return "cannot load", "cilium/ebpf does not see the program", 0
	}
	if adjust != nil {
		adjust(p)
	}
	c, err := ebpf.NewCollectionWithOptions(one, ebpf.CollectionOptions{
		Programs: ebpf.ProgramOptions{LogLevel: ebpf.LogLevelStats, LogSizeStart: 1 << 16}})
	if err != nil {
		verdict, why = kernelErrVerdict(t, where, kind, err)
		return verdict, why, 0
	}
	if m := kernelVerificationTime.FindStringSubmatch(c.Programs[name].VerifierLog); m != nil {
		us, _ := strconv.ParseInt(m[1], 10, 64)
		took = time.Duration(us) * time.Microsecond
	}
	c.Close()
	return "accepts", "", took
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

// corpusSpecs reads the object at path for bpfhost and for the kernel,
// whose maps it sizes as the object's tool would (kernelSpec) and does not
// pin. An object bpfhost cannot read is counted in loads (by reason) and
// gives a nil spec; kerr says why cilium/ebpf could not read it, if so.
func corpusSpecs(t *testing.T, path string, loads map[string]int) (spec *CollectionSpec, kspec *ebpf.CollectionSpec, kerr error) {
	spec, err := LoadCollectionSpec(path)
	if err != nil {
		t.Logf("%s: bpfhost cannot read the object: %v", filepath.Base(path), err)
		loads["cannot read: "+firstLine(err.Error())]++
		return nil, nil, err
	}
	kspec, kerr = ebpf.LoadCollectionSpec(path)
	if kerr == nil {
		kernelSpec(kspec)
		for _, m := range kspec.Maps {
			m.Pinning = ebpf.PinNone
		}
	}
	return spec, kspec, kerr
}
