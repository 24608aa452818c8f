package verifier

import (
	"errors"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// iterKfuncs are the placeholder helper numbers iterAsm turns into kfunc
// calls by name.
var iterKfuncs = map[int32]string{
	900001: "bpf_iter_num_new",
	900002: "bpf_iter_num_next",
	900003: "bpf_iter_num_destroy",
	900009: "bpf_nope",
}

// iterVerify assembles src, where "call 90000N" calls the kfunc of
// iterKfuncs (900009 is a __weak kfunc bpfhost lacks), and verifies it as
// a tc program. "lddw rN, 0x7777" loads the address of the function that
// starts after the first exit.
func iterVerify(t *testing.T, src string) error {
	t.Helper()
	return iterVerifyMaps(t, src, nil)
}

// iterVerifyMaps is iterVerify with maps: "lddw rN, M" (M other than
// 0x7777) loads map M.
func iterVerifyMaps(t *testing.T, src string, maps []MapInfo) error {
	t.Helper()
	prog, err := isa.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	names := map[int]string{}
	for pc, ins := range prog {
		if ins.IsLoadImm64() && ins.Imm == 0x7777 {
			fn := pc
			for !prog[fn].IsExit() {
				fn++
			}
			prog[pc].Src, prog[pc].Imm = isa.PseudoFunc, int32(fn+1-(pc+1))
		} else if ins.IsLoadImm64() && maps != nil {
			prog[pc].Src = isa.PseudoMapIdx
		}
		if name, ok := iterKfuncs[ins.Imm]; ok && ins.Opcode == isa.OpCall && ins.Src == isa.CallHelper {
			prog[pc].Src, prog[pc].Imm = isa.CallKfunc, 0
			names[pc] = name
		}
	}
	info, _ := linux.Lookup("tc")
	opts := Options{Name: "p", Type: info, ABI: linux.ABI(),
		Kfuncs:    func(pc int) string { return names[pc] },
		WeakKfunc: func(pc int) bool { return names[pc] == "bpf_nope" },
		Maps:      maps,
	}
	_, err = Verify(prog, opts)
	return err
}

// The iterator at r10-8 made over [0, 10), in r6 its address.
const iterMake = `
	mov r6, r10
	add r6, -8
	mov r1, r6
	mov r2, 0
	mov r3, 10
	call 900001
`

// TestIterRules checks Linux's rules for open-coded iterators on
// hand-written programs: each refused program breaks one, and a
// one-instruction change of it is accepted where that makes sense.
func TestIterRules(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string // want "": accepted
	}{
		{"loop of unknown count", iterMake + `
			mov r7, 0
		loop:
			mov r1, r6
			call 900002
			jeq r0, 0, done
			ldxw r2, [r0+0]
			add r7, r2
			ja loop
		done:
			mov r1, r6
			call 900003
			mov r0, r7
			exit`, ""},
		{"next on some trips only", iterMake + `
			mov r7, 0
		loop:
			add r7, 1
			jgt r7, 5, skip
			mov r1, r6
			call 900002
			jeq r0, 0, done
		skip:
			ja loop
		done:
			mov r1, r6
			call 900003
			mov r0, 0
			exit`, "loop may not terminate"},
		{"NULL ignored", iterMake + `
			mov r7, 0
		loop:
			mov r1, r6
			call 900002
			add r7, 1
			jgt r7, 1000000000, done
			ja loop
		done:
			mov r1, r6
			call 900003
			mov r0, 0
			exit`, "loop may not terminate"},
		{"made afresh each trip", `
			mov r6, r10
			add r6, -8
		loop:
			mov r1, r6
			mov r2, 0
			mov r3, 10
			call 900001
			mov r1, r6
			call 900002
			mov r7, r0
			mov r1, r6
			call 900003
			jne r7, 0, loop
			mov r0, 0
			exit`, "loop may not terminate"},
		{"a loop without next is proven as before", iterMake + `
			mov r7, 0
		loop:
			add r7, 1
			jlt r7, 100, loop
			mov r1, r6
			call 900003
			mov r0, 0
			exit`, ""},
		// Only next calls in the loop's own function bound it.
		{"stepped by a subprogram", iterMake + `
		loop:
			mov r1, r6
			call local step
			jeq r0, 0, done
			ja loop
		done:
			mov r1, r6
			call 900003
			mov r0, 0
			exit
		step:
			call 900002
			jeq r0, 0, none
			ldxw r0, [r0+0]
			add r0, 1
			exit
		none:
			mov r0, 0
			exit`, "loop may not terminate"},
		// The loop in a subprogram steps the iterator of each call: the
		// one iterBounded looks for is that of the analysis at hand.
		{"a subprogram's loop over two callers' iterators", iterMake + `
			mov r1, r6
			call local drain
			mov r1, r6
			call 900003
			mov r1, r10
			add r1, -16
			mov r2, 0
			mov r3, 5
			call 900001
			mov r1, r10
			add r1, -16
			call local drain
			mov r1, r10
			add r1, -16
			call 900003
			mov r0, 0
			exit
		drain:
			mov r6, r1
		again:
			mov r1, r6
			call 900002
			jne r0, 0, again
			exit`, ""},
		{"subprogram returns with its iterator live", `
			call local f
			mov r0, 0
			exit
		f:
			` + iterMake + `
			mov r0, 0
			exit`, "returns while the iterator"},
		{"a helper writes over the iterator", iterMake + `
			mov r1, r6
			mov r2, 8
			mov r3, 0
			call 113
			mov r1, r6
			call 900003
			mov r0, 0
			exit`, "touches the iterator"},
		{"a store at a variable offset may hit it", iterMake + `
			call 7
			and r0, 8
			mov r1, r10
			add r1, -16
			add r1, r0
			stw [r1+0], 1
			mov r1, r6
			call 900003
			mov r0, 0
			exit`, "touches the iterator"},
		{"iterators of two calls joined", `
			mov r6, r10
			add r6, -8
			call 7
			mov r7, r0
			mov r1, r6
			mov r2, 0
			mov r3, 10
			jeq r7, 0, other
			call 900001
			ja both
		other:
			call 900001
		both:
			mov r1, r6
			call 900003
			mov r0, 0
			exit`, "none lives there on every path"},
		{"misaligned", `
			mov r1, r10
			add r1, -12
			mov r2, 0
			mov r3, 10
			call 900001
			mov r0, 0
			exit`, "8-byte aligned"},
		{"not on the stack", `
			mov r2, 0
			mov r3, 10
			call 900001
			mov r0, 0
			exit`, "needs a pointer to a struct bpf_iter_num on the stack"},
		{"next's value moved by arithmetic", iterMake + `
			mov r1, r6
			call 900002
			jeq r0, 0, done
			add r0, 4
		done:
			mov r1, r6
			call 900003
			mov r0, 0
			exit`, "arithmetic on r0"},
		{"next's value spilled to the stack", iterMake + `
			mov r1, r6
			call 900002
			stxdw [r10-16], r0
			mov r1, r6
			call 900003
			mov r0, 0
			exit`, ""},
		{"a bpf_loop callback leaks its iterator", `
			mov r1, 3
			lddw r2, 0x7777
			mov r3, 0
			mov r4, 0
			call 181
			mov r0, 0
			exit
		cb:
			` + iterMake + `
			mov r0, 0
			exit`, "still held when the bpf_loop callback returns"},
		{"weak kfunc reachable", `
			call 900009
			mov r0, 0
			exit`, "declared __weak"},
		{"weak kfunc unreachable", `
			mov r0, 0
			ja out
			call 900009
		out:
			exit`, ""},
	} {
		err := iterVerify(t, tc.src)
		var ve *VerifierError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v; want accepted", tc.name, err)
		case tc.want != "" && (!errors.As(err, &ve) || !hasMessage(ve, tc.want)):
			t.Errorf("%s: %v; want rejected: %s", tc.name, err, tc.want)
		}
	}
}

// hasMessage reports whether one of ve's findings says want.
func hasMessage(ve *VerifierError, want string) bool {
	for _, e := range ve.Errors {
		if strings.Contains(e.Message, want) {
			return true
		}
	}
	return false
}
