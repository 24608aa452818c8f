package bpfhost

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/object"
	"github.com/bpfhost/bpfhost/platform"
)

// attackKfuncs name the kfuncs raw attack programs call as helpers
// 900001..900003.
var attackKfuncs = map[int32]string{900001: "bpf_iter_num_new", 900002: "bpf_iter_num_next", 900003: "bpf_iter_num_destroy"}

// attackSpec is a one-program collection of the assembled src in section
// sec; "lddw rN, 0x7777" loads the function after the first exit, "call
// 90000N" calls a kfunc of attackKfuncs.
func attackSpec(t *testing.T, sec, src string) *CollectionSpec {
	t.Helper()
	insns, err := isa.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	ps := &ProgramSpec{Name: "attack", Section: sec, License: "GPL", Instructions: insns}
	for pc, in := range insns {
		if in.IsLoadImm64() && in.Imm == 0x7777 {
			fn := pc
			for !insns[fn].IsExit() {
				fn++
			}
			insns[pc].Src, insns[pc].Imm = isa.PseudoFunc, int32(fn+1-(pc+1))
		}
		if name, ok := attackKfuncs[in.Imm]; ok && in.Opcode == isa.OpCall && in.Src == isa.CallHelper {
			insns[pc].Src, insns[pc].Imm = isa.CallKfunc, 0
			ps.References = append(ps.References, object.Reference{Slot: pc, Kind: object.RefKfunc, Name: name, Map: -1})
		}
	}
	return &CollectionSpec{Programs: []*ProgramSpec{ps}, License: "GPL"}
}

// TestAttack3Contained runs the programs of this session's attacks on the
// iterator, ctx->sk and the flow keys (verifier's TestIterAttacks,
// TestSockAddrSkAttacks, TestFlowKeysAttacks) that the verifier accepts
// under the containment check, and test-runs those with a test run on
// both engines, which must agree.
func TestAttack3Contained(t *testing.T) {
	const iterMake = "mov r6, r10\nadd r6, -8\nmov r1, r6\nmov r2, 0\nmov r3, 10\ncall 900001\n"
	for _, tc := range []struct {
		name, sec, src string
		want           uint32 // the test run's result (types with one)
	}{
		{"a callee steps its caller's iterator", "tc", iterMake + `
			mov r1, r6
			call local f
			mov r7, r0
			mov r1, r6
			call 900003
			mov r0, r7
			exit
		f:
			call 900002
			jeq r0, 0, none
			ldxw r0, [r0+0]
			exit
		none:
			mov r0, 99
			exit`, 0},
		{"a callee makes an iterator in its caller's frame", "tc", `
			mov r1, r10
			add r1, -8
			call local f
			mov r1, r10
			add r1, -8
			call 900002
			mov r7, 77
			jeq r0, 0, out
			ldxw r7, [r0+0]
		out:
			mov r1, r10
			add r1, -8
			call 900003
			mov r0, r7
			exit
		f:
			mov r2, 3
			mov r3, 10
			call 900001
			mov r0, 0
			exit`, 3},
		{"a bpf_loop callback steps its caller's iterator", "tc", iterMake + `
			mov r1, 4
			lddw r2, 0x7777
			mov r3, r6
			mov r4, 0
			call 181
			mov r1, r6
			call 900002
			mov r7, 55
			jeq r0, 0, out
			ldxw r7, [r0+0]
		out:
			mov r1, r6
			call 900003
			mov r0, r7
			exit
		cb:
			mov r1, r2
			call 900002
			jeq r0, 0, none
			ldxw r0, [r0+0]
			mov r0, 0
			exit
		none:
			mov r0, 1
			exit`, 4},
		{"sk spilled and reloaded, then read", "cgroup/connect4", "ldxdw r2, [r1+64]\nstxdw [r10-8], r2\nldxdw r3, [r10-8]\nldxw r0, [r3+4]\nmov r0, 1\nexit", 0},
		{"flow keys moved to their end and read back", "flow_dissector", "ldxdw r2, [r1+144]\nadd r2, 56\nldxw r3, [r2-4]\nstw [r2-4], 3\nmov r0, 0\nexit", 0},
		{"flow keys moved far and back", "flow_dissector", "ldxdw r2, [r1+144]\nadd r2, -30000\nldxh r3, [r2+30000]\nstxh [r2+30002], r3\nmov r0, 0\nexit", 0},
		{"flow keys spilled, reloaded and written", "flow_dissector", "ldxdw r2, [r1+144]\nstxdw [r10-8], r2\nldxdw r3, [r10-8]\nstw [r3+52], 1\nmov r0, 0\nexit", 0},
	} {
		spec := attackSpec(t, tc.sec, tc.src)
		var outs [2][]byte
		var rets [2]uint32
		for i, eng := range []Engine{EngineInterp, EngineJIT} {
			c, err := NewCollection(spec, &CollectionOptions{Engine: eng, Slots: 1})
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			p := c.Programs["attack"]
			if eng == EngineInterp {
				cp, err := checkProgram(spec, p)
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				cp.hook = p.info.TestRun == platform.TestRunNone || argsTestRun(p.info)
				if !cp.hook || hookRunnable(p.info) {
					rng := rand.New(rand.NewPCG(3, 4))
					steps := 0
					for r := 0; r < 8; r++ {
						n, err := containedRun(c, spec, cp, []*checkedProg{cp}, rng)
						steps += n
						if err != nil {
							t.Errorf("%s: run %d: %v", tc.name, r, err)
							break
						}
					}
					if steps == 0 {
						t.Errorf("%s: no step checked", tc.name)
					}
				}
			}
			if p.info.TestRun != platform.TestRunNone {
				data := make([]byte, 64)
				data[12], data[13] = 0x08, 0x00
				outs[i] = make([]byte, 64)
				rets[i], err = p.Run(&RunOptions{Data: data, DataOut: outs[i]})
				if err != nil && !errors.Is(err, ErrNotSupported) {
					t.Errorf("%s: %s: %v", tc.name, eng, err)
				}
			}
			c.Close()
		}
		if rets[0] != rets[1] || !bytes.Equal(outs[0], outs[1]) {
			t.Errorf("%s: the engines differ: %d %x, %d %x", tc.name, rets[0], outs[0], rets[1], outs[1])
		}
		if rets[0] != tc.want {
			t.Errorf("%s: the test run returned %d, want %d", tc.name, rets[0], tc.want)
		}
	}
}
