package bpfhost

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"

	"github.com/bpfhost/bpfhost/helpers"
	"github.com/bpfhost/bpfhost/vm"
)

// The BTF pointer test objects (testdata/btfptr): btfptr.o's programs,
// verified against kernel.o, a small kernel BTF of the same types, so that
// the verdicts do not depend on the machine's kernel.
const (
	btfObject = "testdata/btfptr/btfptr.o"
	btfKernel = "testdata/btfptr/kernel.o"
)

// btfVerdicts are the verdicts on btfptr.o's programs: "" for accepted,
// else a part of the message. Linux gives the same verdicts
// (TestBTFPointerKernel).
var btfVerdicts = map[string]string{
	"fentry_unlink":  "",
	"fexit_unlink":   "",
	"on_switch":      "",
	"on_open":        "",
	"dump_task":      "",
	"current_task":   "",
	"flex_tail":      "",
	"bad_write":      "only reads are allowed",
	"bad_beyond":     "the read ends past the 24 bytes of struct bpf_iter_meta",
	"bad_var_off":    "only constant offsets are allowed",
	"bad_ptr_half":   "only all 8 bytes of pointer member real_parent",
	"bad_iter_null":  "may be NULL: it comes from the load",
	"bad_negative":   "negative offsets are not allowed",
	"bad_loop_count": "is outside the",
	"by_value":       "", // Linux has no such function (kernel.o's)
}

// TestBTFPointerPrograms verifies btfptr.o's fentry, fexit, tp_btf, lsm and
// iter programs against kernel.o.
func TestBTFPointerPrograms(t *testing.T) {
	checkVerdicts(t, btfObject, btfKernel, btfVerdicts)
}

// checkVerdicts verifies each program of the object against the kernel BTF
// in the file kernelBTF and checks its verdict: verdicts[name] is "" for
// accepted, else a part of the message.
func checkVerdicts(t *testing.T, object, kernelBTF string, verdicts map[string]string) {
	t.Helper()
	spec, err := LoadCollectionSpec(object)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Programs) != len(verdicts) {
		t.Errorf("%s has %d programs, the table %d", object, len(spec.Programs), len(verdicts))
	}
	for _, ps := range spec.Programs {
		want, ok := verdicts[ps.Name]
		if !ok {
			t.Errorf("%s: no expected verdict", ps.Name)
			continue
		}
		info, _, err := ProgramType(ps, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = VerifyProgram(spec, ps, info, &VerifyOptions{KernelBTF: kernelBTF})
		switch {
		case want == "" && err != nil:
			t.Errorf("%s (%s): %v", ps.Name, ps.Section, err)
		case want != "" && err == nil:
			t.Errorf("%s (%s): accepted, want %q", ps.Name, ps.Section, want)
		case want != "" && !strings.Contains(err.Error(), want):
			t.Errorf("%s (%s): %v, want %q", ps.Name, ps.Section, err, want)
		}
	}
}

// TestBTFPointerNoKernelBTF: a BTF-typed program without kernel BTF is an
// error that names the file and wraps ErrNoKernelBTF; the collection's
// other programs are not affected by a missing file they do not need.
func TestBTFPointerNoKernelBTF(t *testing.T) {
	spec, err := LoadCollectionSpec(btfObject)
	if err != nil {
		t.Fatal(err)
	}
	const missing = "testdata/btfptr/no-such-vmlinux"
	_, err = NewCollection(spec, &CollectionOptions{KernelBTF: missing, Programs: []string{"on_switch"}})
	if !errors.Is(err, ErrNoKernelBTF) || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "on_switch") {
		t.Errorf("NewCollection without kernel BTF: %v, want an error wrapping ErrNoKernelBTF naming %s and the program", err, missing)
	}
	ps := spec.Programs[0]
	info, _, _ := ProgramType(ps, nil)
	if err := VerifyProgram(spec, ps, info, &VerifyOptions{KernelBTF: missing}); !errors.Is(err, ErrNoKernelBTF) {
		t.Errorf("VerifyProgram without kernel BTF: %v, want ErrNoKernelBTF", err)
	}
	// A BTF file without the attach point.
	_, err = NewCollection(spec, &CollectionOptions{KernelBTF: "testdata/held/held.o", Programs: []string{"on_switch"}})
	if err == nil || !strings.Contains(err.Error(), "btf_trace_sched_switch") {
		t.Errorf("kernel BTF without the tracepoint: %v, want an error naming btf_trace_sched_switch", err)
	}
}

// TestBTFPointerContainment runs every accepted program of btfptr.o under
// the verifier's containment check, with random arguments: wild pointers,
// NULL, or pointers into the context (containment_hooks_test.go), so that
// the loads through them read 0 and memory of the run.
func TestBTFPointerContainment(t *testing.T) {
	spec, err := LoadCollectionSpec(btfObject)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(26, 1))
	for name, want := range btfVerdicts {
		if want != "" {
			continue
		}
		c, err := NewCollection(spec, &CollectionOptions{Engine: EngineInterp, Slots: 1, KernelBTF: btfKernel, Programs: []string{name}})
		if name == "current_task" {
			// Verified, but bpfhost has no tasks (helper KernelOnly).
			if err == nil || !strings.Contains(err.Error(), "bpf_get_current_task_btf is not supported") {
				t.Errorf("%s: %v, want the helper not supported", name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p := c.Programs[name]
		if !hookRunnable(p.info) {
			t.Fatalf("%s: not runnable with numbers as its context", name)
		}
		cp, err := checkProgram(spec, p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cp.hook = true
		steps := 0
		for range 32 {
			n, err := containedRun(c, spec, cp, []*checkedProg{cp}, rng)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			steps += n
		}
		if steps == 0 {
			t.Errorf("%s: no step checked", name)
		}
		c.Close()
	}
}

// TestBTFPointerEngines: a load through a BTF pointer reads 0 at a wild
// address and the value in the run's memory, on every engine, trusted and
// checked.
func TestBTFPointerEngines(t *testing.T) {
	spec, err := LoadCollectionSpec(btfObject)
	if err != nil {
		t.Fatal(err)
	}
	var pidOff uint32
	found := false
	for _, v := range spec.Variables {
		if v.Name == "seen_pid" {
			pidOff, found = v.Offset, true
		}
	}
	if !found {
		t.Fatal("no variable seen_pid")
	}
	for _, opts := range []CollectionOptions{{Engine: EngineInterp}, {Engine: EngineInterp, Checked: true}, {Engine: EngineJIT}, {Engine: EngineJIT, Checked: true}} {
		if opts.Engine.Available() != nil {
			continue
		}
		opts.KernelBTF, opts.Programs = btfKernel, []string{"on_switch"}
		c, err := NewCollection(spec, &opts)
		if err != nil {
			t.Fatal(err)
		}
		p := c.Programs["on_switch"]
		if p.Engine() != opts.Engine || p.Fallback() != "" {
			t.Errorf("%+v: engine %s, fallback %q", opts, p.Engine(), p.Fallback())
		}
		bss := c.Maps[".bss"]
		pid := func() uint64 {
			val := make([]byte, bss.ValueSize())
			if err := bss.Lookup(uint32(0), &val); err != nil {
				t.Fatal(err)
			}
			return binary.LittleEndian.Uint64(val[pidOff:])
		}
		// on_switch(preempt, prev, next): seen_pid = prev->pid, at
		// offset 24 of kernel.o's task_struct, which is args[3] when prev
		// points at the arguments themselves.
		run := func(prev uint64, arg3 uint32) {
			t.Helper()
			ctx := make([]byte, p.info.Context.Size)
			binary.LittleEndian.PutUint64(ctx[8:], prev)
			binary.LittleEndian.PutUint64(ctx[16:], 0xffff_8000_dead_0000) // next: wild
			binary.LittleEndian.PutUint32(ctx[24:], arg3)
			if prev == 1 {
				binary.LittleEndian.PutUint64(ctx[8:], vm.Address(unsafe.Pointer(&ctx[0])))
			}
			r := &helpers.Run{Program: p.info.Type, Ctx: unsafe.Pointer(&ctx[0])}
			if _, _, err := p.exec(r, [5]uint64{vm.Address(unsafe.Pointer(&ctx[0]))}, []vm.Region{vm.RegionOf("args", ctx, false)}, nil, &hookRun); err != nil {
				t.Fatalf("%+v: %v", opts, err)
			}
		}
		run(1, 0x1234) // prev points at the context: its pid is args[3]
		if got := pid(); got != 0x1234 {
			t.Errorf("%+v: prev->pid in the run's memory read %#x, want 0x1234", opts, got)
		}
		for _, wild := range []uint64{0, 8, 0xffff_8880_0000_1000, 0x0000_7fff_0000_0000, ^uint64(0) - 2} {
			run(wild, 0x1234)
			if got := pid(); got != 0 {
				t.Errorf("%+v: prev->pid with prev=%#x read %#x, want 0", opts, wild, got)
			}
		}
		c.Close()
	}
}
