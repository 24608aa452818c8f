package amd64_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
	"github.com/bpfhost/bpfhost/vm/jit/amd64"
)

// regionLayout is a list of regions in one heap buffer: empty, read-only,
// overlapping (a read-only region inside a later writable one), tiny, and
// more than the inline table holds.
func regionLayout(mem []byte, zeroStart bool) []vm.Region {
	at := func(name string, from, to int, w bool) vm.Region { return vm.RegionOf(name, mem[from:to], w) }
	rs := []vm.Region{
		{Name: "empty"},
		at("ro", 0, 32, false),
		at("rw", 32, 64, true),
		at("ro-inside", 72, 80, false),
		at("rw-big", 64, 128, true),
		at("tiny", 130, 132, true),
		at("ro-tiny", 134, 135, false),
	}
	if zeroStart { // unrepresentable: the table must end before it
		rs = append(rs[:2], append([]vm.Region{{Start: 0, Size: 1, Name: "zero"}}, rs[2:]...)...)
	}
	for k := range 6 {
		rs = append(rs, at(fmt.Sprintf("far%d", k), 160+32*k, 192+32*k, k%2 == 0))
	}
	return rs
}

// accesses are the memory operations the region tests try at each
// address in r1.
var accesses = []string{
	"ldxb %r0, [%r1]", "ldxh %r0, [%r1]", "ldxw %r0, [%r1]", "ldxdw %r0, [%r1]",
	"stb [%r1], 1", "sth [%r1], 1", "stw [%r1], 1", "stdw [%r1], 1",
	"stxdw [%r1], %r1",
	"mov %r2, 1\nlock add32 [%r1], %r2", "mov %r2, 1\nlock fetch add [%r1], %r2",
}

// TestCheckedRegions compares checked accesses outside the stack with the
// interpreter at addresses around the edges of every region: the inline
// region table must allow and refuse exactly what vm.RunContext.Check
// does, and leave the same errors to it.
func TestCheckedRegions(t *testing.T) {
	mem := heapBytes(400) // 392 and up are in no region
	for _, zeroStart := range []bool{false, true} {
		regions := regionLayout(mem, zeroStart)
		addrs := []uint64{uint64(regions[1].Start) + 392} // in no region
		for _, r := range regions[1:] {
			if r.Start == 0 {
				continue
			}
			for _, d := range []int64{-1, 0, 1, 2, 3, 4} {
				addrs = append(addrs, uint64(int64(r.Start)+d), uint64(int64(r.End())+d-8), uint64(int64(r.End())+d-4))
			}
		}
		for _, src := range accesses {
			// A valid access to the last region fills the table, then the
			// access under test uses it, twice.
			src = fmt.Sprintf("ldxb %%r3, [%%r2]\n%s\n%s\nmov %%r0, 9\nexit", src, src)
			prog, err := isa.Assemble(src)
			if err != nil {
				t.Fatal(err)
			}
			p := &vm.Program{Instructions: prog}
			ref, _ := interp.New().Compile(p, vm.CompileOptions{Mode: vm.Checked})
			exe, err := amd64.New().Compile(p, vm.CompileOptions{Mode: vm.Checked})
			if err != nil {
				t.Fatal(err)
			}
			rc := &vm.RunContext{Regions: regions, Value: mem}
			for _, addr := range addrs {
				var out [2]outcome
				for i, e := range []vm.Executable{ref, exe} {
					clear(mem)
					rc.Args[0], rc.Args[1] = addr, uint64(regions[len(regions)-1].Start)
					r0, err := e.Run(rc)
					out[i] = outcome{r0: r0, executed: rc.Executed}
					if err != nil {
						out[i].err = accessKey(err)
					}
				}
				if out[0] != out[1] {
					t.Errorf("%q at %#x (zero-start region %v): interp %v, jit %v", src, addr, zeroStart, out[0], out[1])
				}
			}
			exe.Close()
		}
	}
}

// TestCheckedRegionsChange checks that the table follows rc.Regions when
// helpers change it: a helper that drops a region, one that adds one, and
// one that runs a callback with other regions (which refills the table)
// and restores them.
func TestCheckedRegionsChange(t *testing.T) {
	mem := heapBytes(128)
	a, b := vm.RegionOf("a", mem[:64], true), vm.RegionOf("b", mem[64:], true)
	h := vm.Helpers{
		1: func(rc *vm.RunContext, _, _, _, _, _ uint64) (uint64, error) {
			rc.Regions = rc.Regions[:0]
			return 0, nil
		},
		2: func(rc *vm.RunContext, _, _, _, _, _ uint64) (uint64, error) {
			rc.Regions = append(rc.Regions[:len(rc.Regions):len(rc.Regions)], b)
			return 0, nil
		},
		3: func(rc *vm.RunContext, fn, _, _, _, _ uint64) (uint64, error) {
			saved := rc.Regions
			rc.Regions = []vm.Region{b}
			defer func() { rc.Regions = saved }()
			return rc.CallFunc(fn, 0, 0, 0, 0, 0)
		},
		4: func(rc *vm.RunContext, _, _, _, _, _ uint64) (uint64, error) {
			rc.Regions[0] = b // in place: the table must notice too
			return 0, nil
		},
	}
	tests := []struct{ name, src string }{
		{"dropped", "ldxb %r0, [%r6]\ncall 1\nldxb %r0, [%r6]\nexit"},
		{"added", "ldxb %r0, [%r6]\ncall 2\nldxb %r0, [%r7]\nexit"},
		{"replaced in place", "ldxb %r0, [%r6]\ncall 4\nldxb %r0, [%r6]\nexit"},
		{"callback with other regions", `
			ldxb %r0, [%r6]
			lddw %r1, 0   #fn cb
			call 3
			ldxb %r0, [%r7]
			exit
		cb:
			ldxb %r0, [%r7]
			exit`},
	}
	for _, tt := range tests {
		prog := assembleFunc(t, tt.src)
		// r6 and r7 point into a and b.
		prog = append([]isa.Instruction{
			{Opcode: isa.Opcode(isa.ClassALU64) | isa.Opcode(isa.ALUMov) | isa.Opcode(isa.SourceX), Dst: isa.R6, Src: isa.R1},
			{Opcode: isa.Opcode(isa.ClassALU64) | isa.Opcode(isa.ALUMov) | isa.Opcode(isa.SourceX), Dst: isa.R7, Src: isa.R2},
		}, prog...)
		p := &vm.Program{Instructions: prog, Helpers: h}
		var out [2]outcome
		for i, e := range []vm.Engine{interp.New(), amd64.New()} {
			exe, err := e.Compile(p, vm.CompileOptions{Mode: vm.Checked})
			if err != nil {
				t.Fatal(err)
			}
			rc := &vm.RunContext{Regions: []vm.Region{a}, Value: mem}
			rc.Args[0], rc.Args[1] = uint64(a.Start), uint64(b.Start)
			r0, err := exe.Run(rc)
			out[i] = outcome{r0: r0, executed: rc.Executed}
			if err != nil {
				out[i].err = accessKey(err)
			}
			exe.Close()
		}
		if out[0] != out[1] {
			t.Errorf("%s: interp %v, jit %v", tt.name, out[0], out[1])
		}
		if tt.name != "added" && out[1].err == "" {
			t.Errorf("%s: the last access succeeded", tt.name)
		}
	}
}

// accessKey describes a run's error for comparison between engines. An
// access error is compared by instruction, address, size and direction: its
// "near" hint names the closest region, which depends on where each run's
// own stack happens to be allocated.
func accessKey(err error) string {
	var ee *vm.ExecError
	var ae *vm.AccessError
	if errors.As(err, &ee) && errors.As(err, &ae) {
		return fmt.Sprintf("instruction %d: access of %d bytes at %#x (write %v)", ee.PC, ae.Size, ae.Addr, ae.Write)
	}
	return err.Error()
}

// TestCheckedRegionsAcrossRuns checks that a run reuses the region table
// of an earlier run of its context only while it describes rc.Regions: a
// region made read-only in place, replaced by another of the same size, or
// dropped between runs must be refused as the interpreter refuses it.
func TestCheckedRegionsAcrossRuns(t *testing.T) {
	mem := heapBytes(128)
	a, b := vm.RegionOf("a", mem[:64], true), vm.RegionOf("b", mem[64:], true)
	roA := a
	roA.Writable = false
	steps := []struct {
		name    string
		regions []vm.Region
		fault   bool
	}{
		{"first", []vm.Region{a, b}, false},
		{"same again", []vm.Region{a, b}, false},
		{"a read-only", []vm.Region{roA, b}, true},
		{"a writable again", []vm.Region{a, b}, false},
		{"a replaced by b", []vm.Region{b, b}, true},
		{"dropped", []vm.Region{b}, true},
		{"none", nil, true},
		{"back", []vm.Region{a}, false},
	}
	prog, err := isa.Assemble("stb [%r1+63], 1\nmov %r0, 1\nexit")
	if err != nil {
		t.Fatal(err)
	}
	p := &vm.Program{Instructions: prog}
	ref, _ := interp.New().Compile(p, vm.CompileOptions{Mode: vm.Checked})
	exe, err := amd64.New().Compile(p, vm.CompileOptions{Mode: vm.Checked})
	if err != nil {
		t.Fatal(err)
	}
	defer exe.Close()
	var rcs [2]*vm.RunContext
	for i := range rcs {
		rcs[i] = &vm.RunContext{Value: mem}
		rcs[i].Args[0] = uint64(a.Start)
	}
	for _, s := range steps {
		var out [2]outcome
		for i, e := range []vm.Executable{ref, exe} {
			rcs[i].Regions = append(rcs[i].Regions[:0], s.regions...)
			r0, err := e.Run(rcs[i])
			out[i] = outcome{r0: r0, executed: rcs[i].Executed}
			if err != nil {
				out[i].err = accessKey(err)
			}
		}
		if out[0] != out[1] || (out[1].err != "") != s.fault {
			t.Errorf("%s: interp %v, jit %v; want a fault: %v", s.name, out[0], out[1], s.fault)
		}
	}
}

// TestCheckedRegionsLastHit checks the shortcut of the inline search (the
// entry that allowed the previous access is tested first): a region that
// overlaps an earlier one must not be taken as the answer for an address
// the earlier one holds, here a write into a read-only region that lies
// inside a later writable one, right after a write elsewhere in the
// writable one; nor may a shortcut survive a helper that changes the
// regions.
func TestCheckedRegionsLastHit(t *testing.T) {
	mem := heapBytes(128)
	ro, rw, other := vm.RegionOf("ro", mem[:8], false), vm.RegionOf("rw", mem[:64], true), vm.RegionOf("other", mem[64:], true)
	h := vm.Helpers{1: func(rc *vm.RunContext, _, _, _, _, _ uint64) (uint64, error) {
		rc.Regions = []vm.Region{ro, other}
		return 0, nil
	}}
	tests := []struct {
		name, src string
		regions   []vm.Region
	}{
		{"overlap", "stb [%r1+40], 1\nstb [%r1+32], 1\nstb [%r1+0], 1\nmov %r0, 1\nexit", []vm.Region{ro, rw}},
		{"overlap, read then write", "ldxb %r0, [%r1+40]\nldxb %r0, [%r1+3]\nstb [%r1+2], 1\nmov %r0, 1\nexit", []vm.Region{ro, rw}},
		{"helper drops the region", "stb [%r1+40], 1\nstb [%r1+32], 1\ncall 1\nstb [%r1+32], 1\nmov %r0, 1\nexit", []vm.Region{rw, other}},
	}
	for _, tt := range tests {
		prog, err := isa.Assemble(tt.src)
		if err != nil {
			t.Fatal(err)
		}
		p := &vm.Program{Instructions: prog, Helpers: h}
		var out [2]outcome
		for i, e := range []vm.Engine{interp.New(), amd64.New()} {
			exe, err := e.Compile(p, vm.CompileOptions{Mode: vm.Checked})
			if err != nil {
				t.Fatal(err)
			}
			clear(mem)
			rc := &vm.RunContext{Regions: append([]vm.Region(nil), tt.regions...), Value: mem}
			rc.Args[0] = uint64(rw.Start)
			r0, err := exe.Run(rc)
			out[i] = outcome{r0: r0, executed: rc.Executed}
			if err != nil {
				out[i].err = accessKey(err)
			}
			exe.Close()
		}
		if out[0] != out[1] || out[1].err == "" {
			t.Errorf("%s: interp %v, jit %v; want the same fault", tt.name, out[0], out[1])
		}
	}
}
