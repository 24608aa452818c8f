package helpers

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
)

// funcs is a fake engine side of callbacks: fn indexes Go functions.
type funcs []func(r1, r2, r3, r4, r5 uint64) (uint64, error)

func (f funcs) CallFunc(fn, r1, r2, r3, r4, r5 uint64) (uint64, error) {
	return f[fn](r1, r2, r3, r4, r5)
}

func TestLoop(t *testing.T) {
	e := newEnv(t, vm.Checked)
	var seen []uint64
	boom := errors.New("boom")
	cb := funcs{
		func(i, ctx, _, _, _ uint64) (uint64, error) { // 0: record
			if ctx != 0xc0 {
				t.Errorf("callback ctx %#x", ctx)
			}
			seen = append(seen, i)
			return 0, nil
		},
		func(i, _, _, _, _ uint64) (uint64, error) { // 1: stop at 3
			if i == 3 {
				return 1, nil
			}
			return 0, nil
		},
		func(uint64, uint64, uint64, uint64, uint64) (uint64, error) { return 0, boom }, // 2: fault
	}
	e.rc.Value = &Run{Call: cb}
	for _, tt := range []struct {
		name       string
		n, fn, flg uint64
		want       int64
		calls      int
	}{
		{"all", 5, 0, 0, 5, 5},
		{"zero", 0, 0, 0, 0, 0},
		{"u32 count", 1<<32 | 2, 0, 0, 2, 2},
		{"flags", 5, 0, 1, eINVAL, 0},
		{"too many", maxLoops + 1, 0, 0, e2BIG, 0},
	} {
		seen = nil
		if r := e.mustCall(linux.FnLoop, tt.n, tt.fn, 0xc0, tt.flg); r != tt.want || len(seen) != tt.calls {
			t.Errorf("%s: = %d after %d calls, want %d, %d", tt.name, r, len(seen), tt.want, tt.calls)
		}
		for i, v := range seen {
			if v != uint64(i) {
				t.Fatalf("%s: call %d got index %d", tt.name, i, v)
			}
		}
	}
	if r := e.mustCall(linux.FnLoop, 10, 1, 0, 0); r != 4 {
		t.Errorf("loop stopped at index 3 = %d, want 4", r)
	}
	if _, err := e.call(linux.FnLoop, 10, 2, 0, 0); !errors.Is(err, boom) {
		t.Errorf("callback error: %v", err)
	}
	// Without Run.Call the engine's rc.Call runs callbacks; an engine that
	// set none makes the helper fail.
	e.rc.Value = nil
	if _, err := e.call(linux.FnLoop, 1, 0, 0, 0); !errors.Is(err, vm.ErrUnsupported) {
		t.Errorf("no caller: %v", err)
	}
}

// assembleWithCallback assembles main and callback one after the other and
// points main's lddw at slot fnSlot (written "lddw %rN, 0") to the callback,
// as clang's lddw src=4 would.
func assembleWithCallback(t *testing.T, main, callback string, host Host, mode vm.Mode) vm.Executable {
	t.Helper()
	return compileWithCallback(t, interp.New(), main, callback, host, mode)
}

// compileWithCallback is assembleWithCallback with a given engine.
func compileWithCallback(t *testing.T, engine vm.Engine, main, callback string, host Host, mode vm.Mode) vm.Executable {
	t.Helper()
	m, err := isa.Assemble(main)
	if err != nil {
		t.Fatal(err)
	}
	c, err := isa.Assemble(callback)
	if err != nil {
		t.Fatal(err)
	}
	patched := false
	for pc := range m {
		if m[pc].IsLoadImm64() && m[pc].Imm == 0 && m[pc+1].Imm == 0 && !patched {
			m[pc].Src, m[pc].Imm = isa.PseudoFunc, int32(len(m)-(pc+1))
			patched = true
		}
	}
	exe, err := engine.Compile(&vm.Program{Instructions: append(m, c...), Helpers: New(host)}, vm.CompileOptions{Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exe.Close() })
	return exe
}

// TestLoopProgram runs bpf_loop in the interpreter: the callback adds each
// index to a counter on the caller's stack.
func TestLoopProgram(t *testing.T) {
	for _, mode := range []vm.Mode{vm.Checked, vm.Trusted} {
		exe := assembleWithCallback(t, `
			stdw [%r10-8], 0
			mov %r1, 10
			lddw %r2, 0
			mov %r3, %r10
			add %r3, -8
			mov %r4, 0
			call 181
			ldxdw %r1, [%r10-8]
			lsh %r0, 32
			or %r0, %r1
			exit`, `
			ldxdw %r3, [%r2+0]
			add %r3, %r1
			stxdw [%r2+0], %r3
			mov %r0, 0
			jne %r1, 6, +1
			mov %r0, 1
			exit`, newHost(), mode)
		got, err := vm.Run(exe, &vm.RunContext{})
		if want := uint64(7)<<32 | 21; err != nil || got != want {
			t.Errorf("%s: loop program = %#x, %v; want %#x (7 calls, 0+...+6)", mode, got, err, want)
		}
	}
}

// TestForEachProgram runs bpf_for_each_map_elem in the checked interpreter:
// the callback reads each key and value, which lie outside the program's
// registered memory until the helper registers them.
func TestForEachProgram(t *testing.T) {
	host := newHost()
	m, _ := maps.New(maps.Spec{Name: "h", Type: maps.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 8}, 1)
	for k := uint32(1); k <= 4; k++ {
		if err := m.Update(u32(k), u64(uint64(k)*100), 0); err != nil {
			t.Fatal(err)
		}
	}
	exe := assembleWithCallback(t, fmt.Sprintf(`
		stdw [%%r10-8], 0
		lddw %%r1, %#x
		lddw %%r2, 0
		mov %%r3, %%r10
		add %%r3, -8
		mov %%r4, 0
		call 164
		ldxdw %%r1, [%%r10-8]
		lsh %%r0, 32
		or %%r0, %%r1
		exit`, host.add(m)), `
		ldxdw %r5, [%r4+0]
		ldxw %r0, [%r2+0]
		add %r5, %r0
		ldxdw %r0, [%r3+0]
		add %r5, %r0
		stxdw [%r4+0], %r5
		mov %r0, 0
		exit`, host, vm.Checked)
	rc := &vm.RunContext{Regions: []vm.Region{vm.RegionOf("values", m.(maps.ElemMap).ValueMemory(), true)}}
	got, err := vm.Run(exe, rc)
	if want := uint64(4)<<32 | 1010; err != nil || got != want {
		t.Errorf("for_each program = %#x, %v; want %#x", got, err, want)
	}
	if len(rc.Regions) != 1 {
		t.Errorf("regions after the run: %d", len(rc.Regions))
	}
}

func TestForEachMapElem(t *testing.T) {
	e := newEnv(t, vm.Checked)
	e.rc.Slot = 1
	m, mp := e.newMap(maps.Spec{Name: "h", Type: maps.PerCPUHash, KeySize: 4, ValueSize: 8, MaxEntries: 8}, 2)
	vals := make([]byte, 16)
	for k := uint32(1); k <= 3; k++ {
		binary.NativeEndian.PutUint64(vals[8:], uint64(k*10)) // slot 1
		if err := m.Update(u32(k), vals, 0); err != nil {
			t.Fatal(err)
		}
	}
	// The callback reads the key and doubles the value, checking both
	// against the run's regions as a checked engine would.
	var keys []uint32
	stopAfter := 0
	cb := funcs{func(mapp, key, value, ctx, _ uint64) (uint64, error) {
		if mapp != mp || ctx != 0xc0 {
			t.Errorf("callback map %#x ctx %#x", mapp, ctx)
		}
		if err := e.rc.Check(key, 4, false); err != nil {
			return 0, err
		}
		if err := e.rc.Check(value, 8, true); err != nil {
			return 0, err
		}
		keys = append(keys, binary.NativeEndian.Uint32(vm.Bytes(key, 4)))
		v := vm.Bytes(value, 8)
		binary.NativeEndian.PutUint64(v, binary.NativeEndian.Uint64(v)*2)
		if len(keys) == stopAfter {
			return 1, nil
		}
		return 0, nil
	}}
	e.rc.Value = &Run{Call: cb}
	regions := len(e.rc.Regions)
	if r := e.mustCall(linux.FnForEachMapElem, mp, 0, 0xc0, 0); r != 3 {
		t.Errorf("for_each = %d, want 3", r)
	}
	if len(e.rc.Regions) != regions {
		t.Errorf("for_each left %d regions, had %d", len(e.rc.Regions), regions)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	if len(keys) != 3 || keys[0] != 1 || keys[2] != 3 {
		t.Errorf("keys %v", keys)
	}
	if err := m.Lookup(u32(2), vals); err != nil || binary.NativeEndian.Uint64(vals[8:]) != 40 || binary.NativeEndian.Uint64(vals) != 0 {
		t.Errorf("value of key 2 after doubling slot 1: %x, %v", vals, err)
	}
	keys, stopAfter = nil, 2
	if r := e.mustCall(linux.FnForEachMapElem, mp, 0, 0xc0, 0); r != 2 || len(keys) != 2 {
		t.Errorf("for_each stopping after 2 = %d, %d calls", r, len(keys))
	}
	if r := e.mustCall(linux.FnForEachMapElem, mp, 0, 0xc0, 1); r != eINVAL {
		t.Errorf("for_each with flags = %d", r)
	}
	_, qp := e.newMap(maps.Spec{Name: "q", Type: maps.Queue, ValueSize: 4, MaxEntries: 2}, 1)
	if _, err := e.call(linux.FnForEachMapElem, qp, 0, 0, 0); !errors.Is(err, ErrNotAMap) {
		t.Errorf("for_each on a queue: %v", err)
	}
}
