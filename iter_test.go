package bpfhost

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// iterShapes are the programs of testdata/iter/iter.o (open-coded number
// iterators, docs/decisions/0037-open-coded-iterators.md) with bpfhost's
// verdict: "" loads, otherwise a fragment of the verifier's message; want
// is the result of a run on a 64-byte packet, computed by hand from the C
// source. TestIterKernel checks the verdicts and results against the
// running kernel.
var iterShapes = []struct {
	program, refuse string
	want            uint32
}{
	{"sum_const", "", 42},
	{"sum_len", "", 3 * 63 * 64 / 2},
	{"nested", "", iterNested()},
	{"repeat", "", 0}, // 64 & 63 == 0 repetitions
	{"early_break", "", 8},
	{"manual", "", iterManual()},
	{"bad_ranges", "", iterBadRanges()},
	{"drained", "", 102},
	{"many", "", iterMany()},
	{"leak", "Unreleased reference", 0},
	{"after_destroy", "needs an iterator made by bpf_iter_num_new", 0},
	{"double_new", "still lives: destroy it first", 0},
	{"read_slot", "touches the iterator", 0},
	{"write_slot", "touches the iterator", 0},
	{"write_value", "read-only", 0},
	{"read_past_value", "outside its 4 bytes", 0},
	{"unchecked", "may be NULL", 0},
	{"never_ends", "loop may not terminate", 0},
}

func iterBadRanges() uint32 {
	r := int32(-22*1000 - 7*10) // -EINVAL, -E2BIG, no values
	return uint32(r)
}

func iterNested() uint32 {
	sum := 0
	for i := 0; i < 12; i++ {
		for j := 0; j < i; j++ {
			sum += i*j + 1
		}
	}
	return uint32(sum)
}

func iterManual() uint32 {
	sum := int32(0)
	for v := int32(-5); v < 5; v++ {
		sum = sum*3 + v
	}
	return uint32(sum)
}

func iterMany() uint32 {
	sum := uint32(0)
	for i := uint32(0); i < 10000; i++ {
		sum += i ^ 0x5a
	}
	return sum & 0x7fffffff
}

// TestIterShapes verifies each program of iterShapes alone and, for those
// bpfhost accepts, runs it on both engines.
func TestIterShapes(t *testing.T) {
	for _, tt := range iterShapes {
		t.Run(tt.program, func(t *testing.T) {
			err := verifyNamed(t, "testdata/iter/iter.o", tt.program, nil)
			if tt.refuse != "" {
				var ve *VerifierError
				if !errors.As(err, &ve) || !strings.Contains(err.Error(), tt.refuse) {
					t.Fatalf("%v; want a verifier error saying %q", err, tt.refuse)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, engine := range []Engine{EngineInterp, EngineJIT} {
				if engine.Available() != nil {
					continue
				}
				if got := iterRun(t, tt.program, engine); got != tt.want {
					t.Errorf("%s: r0 = %d, want %d", engine, int32(got), int32(tt.want))
				}
			}
		})
	}
}

// iterRun loads program alone from iter.o and runs it on a 64-byte packet.
func iterRun(t *testing.T, program string, engine Engine) uint32 {
	t.Helper()
	spec, err := LoadCollectionSpec("testdata/iter/iter.o")
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCollection(spec, &CollectionOptions{Programs: []string{program}, Engine: engine})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := c.Programs[program].Run(&RunOptions{Data: make([]byte, 64)})
	if err != nil {
		t.Fatal(err)
	}
	return uint32(r)
}

// TestKfuncNames: NewCollection binds kfunc calls by name. A kfunc bpfhost
// lacks is a load error naming it, as libbpf's; a __weak one loads when
// its call is unreachable, and the program runs.
func TestKfuncNames(t *testing.T) {
	spec, err := LoadCollectionSpec("testdata/iter/kfuncs.o")
	if err != nil {
		t.Fatal(err)
	}
	for program, want := range map[string]string{
		"strong_missing": "extern (func ksym) 'bpf_bpfhost_missing': not found in kernel or module BTFs",
		"weak_reachable": "bpf_bpfhost_maybe, declared __weak, which bpfhost does not have",
	} {
		c, err := NewCollection(spec, &CollectionOptions{Programs: []string{program}})
		if err == nil {
			c.Close()
			t.Errorf("%s loads; want an error saying %q", program, want)
		} else if !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want an error saying %q", program, err, want)
		}
	}
	// Unverified, the loader refuses it when it binds the call.
	c, err := NewCollection(spec, &CollectionOptions{Programs: []string{"strong_missing"}, Unverified: true})
	if err == nil {
		c.Close()
		t.Error("strong_missing loads unverified")
	} else if !strings.Contains(err.Error(), "extern (func ksym) 'bpf_bpfhost_missing'") {
		t.Errorf("strong_missing unverified: %v", err)
	}
	// An unverified run that reaches a missing __weak kfunc stops there.
	c, err = NewCollection(spec, &CollectionOptions{Programs: []string{"weak_reachable"}, Unverified: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Programs["weak_reachable"].Run(&RunOptions{Data: make([]byte, 64)})
	c.Close()
	if !errors.Is(err, errMissingKfunc) {
		t.Errorf("weak_reachable unverified: %v, want %v", err, errMissingKfunc)
	}
	for _, engine := range []Engine{EngineInterp, EngineJIT} {
		if engine.Available() != nil {
			continue
		}
		c, err := NewCollection(spec, &CollectionOptions{Programs: []string{"weak_unreachable"}, Engine: engine})
		if err != nil {
			t.Fatalf("%s: %v", engine, err)
		}
		r, err := c.Programs["weak_unreachable"].Run(&RunOptions{Data: make([]byte, 64)})
		c.Close()
		if err != nil || r != 6 {
			t.Errorf("%s: weak_unreachable: r0 = %d, %v; want 6", engine, r, err)
		}
	}
}

// TestIterChecked runs iterator programs in checked mode, verified and
// unverified: the kfuncs check the iterator's address against the run's
// memory, and agree with trusted runs.
func TestIterChecked(t *testing.T) {
	spec, err := LoadCollectionSpec("testdata/iter/iter.o")
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []CollectionOptions{{Checked: true}, {Unverified: true}} {
		for _, tt := range iterShapes {
			if tt.refuse != "" {
				continue
			}
			o := opts
			o.Programs = []string{tt.program}
			c, err := NewCollection(spec, &o)
			if err != nil {
				t.Fatalf("%s (%+v): %v", tt.program, opts, err)
			}
			r, err := c.Programs[tt.program].Run(&RunOptions{Data: make([]byte, 64)})
			c.Close()
			if err != nil || uint32(r) != tt.want {
				t.Errorf("%s (checked %v, unverified %v): r0 = %d, %v; want %d", tt.program, opts.Checked, opts.Unverified, int32(r), err, int32(tt.want))
			}
		}
	}
}

// TestIterBounded: a loop over 2^46 iterator values (huge.o with n =
// 1<<23) is accepted (Linux accepts it too) and stops at the run's bounds like any long-running
// code (decision 0012): here the deadline of RunOptions.Ctx, checked at
// every kfunc call as at every helper call. 2^46 trips cannot end within
// any deadline, so the run ends with ErrCanceled on a machine of any
// speed; the deadline only says when.
func TestIterBounded(t *testing.T) {
	spec, err := LoadCollectionSpec("testdata/iter/huge.o")
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.SetConstant("n", int32(1<<23)); err != nil {
		t.Fatal(err)
	}
	for _, engine := range []Engine{EngineInterp, EngineJIT} {
		if engine.Available() != nil {
			continue
		}
		c, err := NewCollection(spec, &CollectionOptions{Programs: []string{"huge"}, Engine: engine})
		if err != nil {
			t.Fatalf("%s: %v", engine, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, err = c.Programs["huge"].Run(&RunOptions{Data: make([]byte, 64), Ctx: ctx})
		cancel()
		c.Close()
		if !errors.Is(err, ErrCanceled) {
			t.Errorf("%s: %v, want ErrCanceled", engine, err)
		}
	}
}
