package bpfhost

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/bpfhost/bpfhost/internal/progen"
	"github.com/bpfhost/bpfhost/vm"
)

// kernelOLayout is struct task_struct of btfKernel (testdata/btfptr/kern.h).
var kernelOLayout = progen.TaskLayout{Size: 56, Flags: 4, Pid: 24, Tgid: 28, RealParent: 32, Comm: 40}

// TestContainmentBTFTyped runs progen.BTFTyped's tp_btf programs (BTF
// pointers read through, joined, compared, subtracted and passed to
// helpers as sizes, counts, flags, keys, values, buffers and callback
// contexts), verified against btfKernel, under the containment check in
// the interpreter with random arguments (wild, NULL or into the context),
// then on every other engine and mode on arguments of the same kinds,
// where a fault of an accepted program is a finding. Longer with
// -containment.hostile, other programs with -containment.seed.
func TestContainmentBTFTyped(t *testing.T) {
	containStats = containStatsT{}
	g := progen.NewBTFTyped(rand.New(rand.NewPCG(*hostileSeed, 27)), kernelOLayout)
	rng := rand.New(rand.NewPCG(*hostileSeed, 28))
	engines := []CollectionOptions{{Engine: EngineInterp, Checked: true}, {Engine: EngineJIT}, {Engine: EngineJIT, Checked: true}}
	var accepted, runs, steps, others int
	for i := 0; i < *hostileCount; i++ {
		p := g.Program()
		spec := hostileSpec(p.HostileProgram)
		c, err := NewCollection(spec, &CollectionOptions{Engine: EngineInterp, Slots: 1, KernelBTF: btfKernel})
		if err != nil {
			continue
		}
		accepted++
		cp, err := checkProgram(spec, c.Programs["hostile"])
		if err != nil {
			t.Fatalf("program %d: accepted by NewCollection, rejected on its own: %v\n%s", i, err, p.Source)
		}
		cp.hook = true
		for r := 0; r < 4; r++ {
			// Half the runs with BTF pointers that are never addresses
			// of the run, and the leak check on.
			cp.wildArgs = r%2 == 1
			n, err := containedRun(c, spec, cp, []*checkedProg{cp}, rng)
			steps += n
			runs++
			if err != nil {
				t.Fatalf("BTF-typed program %d, run %d: %v\n%s", i, r, err, p.Source)
			}
		}
		c.Close()
		for _, opts := range engines {
			if opts.Engine.Available() != nil {
				continue
			}
			opts.KernelBTF, opts.Slots = btfKernel, 1
			c, err := NewCollection(spec, &opts)
			if err != nil {
				t.Fatalf("program %d: accepted by the interpreter, not by %+v: %v\n%s", i, opts, err, p.Source)
			}
			for r := 0; r < 4; r++ {
				input, err := runHook(c.Programs["hostile"], rng)
				others++
				var ae *vm.AccessError
				if errors.As(err, &ae) {
					t.Fatalf("program %d on %s (checked %v): an accepted program faulted: %v\ninput: %s\n%s", i, opts.Engine, opts.Checked, err, input, p.Source)
				}
			}
			c.Close()
		}
	}
	t.Logf("containment of BTF-typed programs, seed %d: %d tried, %d accepted, %d contained runs, %d instructions contained, %d runs on the other engines; %s", *hostileSeed, *hostileCount, accepted, runs, steps, others, &containStats)
	if accepted == 0 {
		t.Error("no BTF-typed program accepted: the test checks nothing")
	}
}
