package verifier

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/bpfhost/bpfhost/isa"
)

// A parser for PREVAIL's assembly syntax (the YAML test cases' code): it
// resembles LLVM's, with labels in angle brackets. "assume" becomes a jump
// to a sink slot whose states vanish.

type asmBlock struct {
	label string
	lines []string
}

type asmFixup struct {
	at    int
	label string
	call  bool
}

type prevailAsm struct {
	out    []isa.Instruction
	fix    []asmFixup
	labels map[string]int
	sink   int // slot of the sink; assumes jump there
	added  map[int]bool
}

var (
	reReg  = `([rw])(\d+)`
	reNum  = `(-?(?:0x[0-9a-fA-F]+|\d+))`
	reOpnd = `(?:` + reReg + `|` + reNum + `)`

	asmMov     = regexp.MustCompile(`^` + reReg + `\s*=\s*` + reOpnd + `(ll)?$`)
	asmNeg     = regexp.MustCompile(`^` + reReg + `\s*=\s*-\s*` + reReg + `$`)
	asmALU     = regexp.MustCompile(`^` + reReg + `\s*(\+|-|\*|/|%|\||&|\^|<<|>>|s>>|s/|s%)=\s*` + reOpnd + `$`)
	asmMovsx   = regexp.MustCompile(`^` + reReg + `\s*s(8|16|32)=\s*` + reReg + `$`)
	asmSwap    = regexp.MustCompile(`^` + reReg + `\s*=\s*(be|le|swap)(16|32|64)\s+` + reReg + `$`)
	asmLoad    = regexp.MustCompile(`^` + reReg + `\s*=\s*\*\(u(8|16|32|64) \*\)\(r(\d+)\s*([+-])\s*(\d+)\)$`)
	asmStore   = regexp.MustCompile(`^\*\(u(8|16|32|64) \*\)\(r(\d+)\s*([+-])\s*(\d+)\)\s*=\s*` + reOpnd + `$`)
	asmAtomic  = regexp.MustCompile(`^lock \*\(u(32|64) \*\)\(r(\d+)\s*([+-])\s*(\d+)\)\s*(\+|\||&|\^|x|cx)=\s*r(\d+)(\s+fetch)?$`)
	asmJump    = regexp.MustCompile(`^(if|assume)\s+` + reReg + `\s*(==|!=|>=|<=|>|<|s>=|s<=|s>|s<|&==|&!=)\s*` + reOpnd + `(?:\s+goto\s+<(\w+)>)?$`)
	asmGoto    = regexp.MustCompile(`^goto\s+<(\w+)>$`)
	asmCall    = regexp.MustCompile(`^call\s+(\d+)(?:;.*)?$`)
	asmCallL   = regexp.MustCompile(`^call\s+<(\w+)>$`)
	asmCallX   = regexp.MustCompile(`^callx\s+r(\d+)(?:;.*)?$`)
	asmMapFD   = regexp.MustCompile(`^r(\d+)\s*=\s*map_fd\s+(\d+)$`)
	asmMapVal  = regexp.MustCompile(`^r(\d+)\s*=\s*map_val\((\d+)\)\s*\+\s*(\d+)$`)
	asmLegacy  = regexp.MustCompile(`^r0\s*=\s*\*\(u(8|16|32) \*\)skb\[(?:r(\d+)|(\d+))\]$`)
	asmComment = regexp.MustCompile(`\s*;.*$`)
)

func sizeOf(bits string) isa.Size {
	switch bits {
	case "8":
		return isa.SizeB
	case "16":
		return isa.SizeH
	case "32":
		return isa.SizeW
	}
	return isa.SizeDW
}

func parseNum(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	u, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0, err
	}
	if neg {
		return -int64(u), nil
	}
	return int64(u), nil
}

func fitsImm(v int64) bool { return v >= -1<<31 && v < 1<<31 }

var aluOps = map[string]isa.ALUOp{"+": isa.ALUAdd, "-": isa.ALUSub, "*": isa.ALUMul, "/": isa.ALUDiv, "%": isa.ALUMod,
	"|": isa.ALUOr, "&": isa.ALUAnd, "^": isa.ALUXor, "<<": isa.ALULsh, ">>": isa.ALURsh, "s>>": isa.ALUArsh,
	"s/": isa.ALUDiv, "s%": isa.ALUMod}

var jumpOps = map[string]isa.JumpOp{"==": isa.JumpEq, "!=": isa.JumpNE, ">": isa.JumpGT, ">=": isa.JumpGE, "<": isa.JumpLT,
	"<=": isa.JumpLE, "s>": isa.JumpSGT, "s>=": isa.JumpSGE, "s<": isa.JumpSLT, "s<=": isa.JumpSLE, "&==": isa.JumpSet}

var negJump = map[string]string{"==": "!=", "!=": "==", ">": "<=", ">=": "<", "<": ">=", "<=": ">", "s>": "s<=", "s>=": "s<", "s<": "s>=", "s<=": "s>", "&==": "&!=", "&!=": "&=="}

// assemblePrevail translates the blocks; every block that a local call
// targets, and the last one, get an exit if they lack one. The sink is the
// last slot.
func assemblePrevail(blocks []asmBlock) ([]isa.Instruction, int, map[int]bool, error) {
	a := &prevailAsm{labels: map[string]int{}, added: map[int]bool{}}
	called := map[string]bool{}
	for _, b := range blocks {
		for _, l := range b.lines {
			if m := asmCallL.FindStringSubmatch(strings.TrimSpace(asmComment.ReplaceAllString(l, ""))); m != nil {
				called[m[1]] = true
			}
		}
	}
	for i, b := range blocks {
		a.labels[b.label] = len(a.out)
		for _, raw := range b.lines {
			l := strings.TrimSpace(asmComment.ReplaceAllString(raw, ""))
			l = strings.TrimSuffix(l, ";")
			l = strings.TrimSpace(l)
			if l == "" {
				continue
			}
			if err := a.line(l); err != nil {
				return nil, 0, nil, fmt.Errorf("%q: %w", raw, err)
			}
		}
		nextCalled := i+1 < len(blocks) && called[blocks[i+1].label]
		if called[b.label] || i == len(blocks)-1 || nextCalled {
			if len(a.out) == 0 || !a.out[len(a.out)-1].IsExit() {
				a.added[len(a.out)] = true
				a.emit(isa.Instruction{Opcode: isa.OpExit})
			}
		}
	}
	if _, ok := a.labels["exit"]; !ok {
		a.labels["exit"] = len(a.out)
	}
	a.added[len(a.out)] = true
	a.emit(isa.Instruction{Opcode: isa.OpExit})
	a.sink = len(a.out)
	a.labels["sink"] = a.sink
	a.emit(isa.Instruction{Opcode: isa.OpExit})
	for _, f := range a.fix {
		t, ok := a.labels[f.label]
		if !ok {
			return nil, 0, nil, fmt.Errorf("unknown label <%s>", f.label)
		}
		if f.label == "sink" {
			t = a.sink
		}
		off := t - f.at - 1
		if f.call || a.out[f.at].Opcode == isa.OpJA32 {
			a.out[f.at].Imm = int32(off)
		} else {
			a.out[f.at].Offset = int16(off)
		}
	}
	return a.out, a.sink, a.added, nil
}

func (a *prevailAsm) emit(in ...isa.Instruction) { a.out = append(a.out, in...) }

func regNum(s string) isa.Register { n, _ := strconv.Atoi(s); return isa.Register(n) }

func (a *prevailAsm) line(l string) error {
	cls := func(w string) isa.Class {
		if w == "w" {
			return isa.ClassALU
		}
		return isa.ClassALU64
	}
	if l == "exit" {
		a.emit(isa.Instruction{Opcode: isa.OpExit})
		return nil
	}
	if m := asmMapFD.FindStringSubmatch(l); m != nil {
		n, _ := strconv.Atoi(m[2])
		p := isa.LoadImm64(regNum(m[1]), isa.PseudoMapFD, uint64(n))
		a.emit(p[:]...)
		return nil
	}
	if m := asmMapVal.FindStringSubmatch(l); m != nil {
		n, _ := strconv.Atoi(m[2])
		off, _ := strconv.Atoi(m[3])
		p := isa.LoadImm64(regNum(m[1]), isa.PseudoMapValue, uint64(uint32(n))|uint64(off)<<32)
		a.emit(p[:]...)
		return nil
	}
	if m := asmNeg.FindStringSubmatch(l); m != nil && m[2] == m[4] {
		a.emit(isa.Instruction{Opcode: isa.Opcode(cls(m[1])) | isa.Opcode(isa.ALUNeg), Dst: regNum(m[2])})
		return nil
	}
	if m := asmMov.FindStringSubmatch(l); m != nil {
		c, dst := cls(m[1]), regNum(m[2])
		if m[3] != "" {
			a.emit(isa.Instruction{Opcode: isa.Opcode(c) | isa.Opcode(isa.ALUMov) | isa.Opcode(isa.SourceX), Dst: dst, Src: regNum(m[4])})
			return nil
		}
		v, err := parseNum(m[5])
		if err != nil {
			return err
		}
		if m[6] == "ll" || !fitsImm(v) {
			p := isa.LoadImm64(dst, 0, uint64(v))
			a.emit(p[:]...)
			return nil
		}
		a.emit(isa.Instruction{Opcode: isa.Opcode(c) | isa.Opcode(isa.ALUMov), Dst: dst, Imm: int32(v)})
		return nil
	}
	if m := asmALU.FindStringSubmatch(l); m != nil {
		c, dst := cls(m[1]), regNum(m[2])
		op := aluOps[m[3]]
		var off int16
		if strings.HasPrefix(m[3], "s") && m[3] != "s>>" {
			off = 1
		}
		if m[4] != "" {
			a.emit(isa.Instruction{Opcode: isa.Opcode(c) | isa.Opcode(op) | isa.Opcode(isa.SourceX), Dst: dst, Src: regNum(m[5]), Offset: off})
			return nil
		}
		v, err := parseNum(m[6])
		if err != nil {
			return err
		}
		if !fitsImm(v) {
			if v > 0 && v <= 0xffffffff && c == isa.ClassALU {
				v = int64(int32(uint32(v)))
			} else {
				return fmt.Errorf("immediate %d does not fit", v)
			}
		}
		a.emit(isa.Instruction{Opcode: isa.Opcode(c) | isa.Opcode(op), Dst: dst, Imm: int32(v), Offset: off})
		return nil
	}
	if m := asmMovsx.FindStringSubmatch(l); m != nil {
		w, _ := strconv.Atoi(m[3])
		a.emit(isa.Instruction{Opcode: isa.Opcode(cls(m[1])) | isa.Opcode(isa.ALUMov) | isa.Opcode(isa.SourceX), Dst: regNum(m[2]), Src: regNum(m[5]), Offset: int16(w)})
		return nil
	}
	if m := asmSwap.FindStringSubmatch(l); m != nil {
		w, _ := strconv.Atoi(m[4])
		switch m[3] {
		case "le":
			a.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassALU) | isa.Opcode(isa.ALUEnd), Dst: regNum(m[2]), Imm: int32(w)})
		case "be":
			a.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassALU) | isa.Opcode(isa.ALUEnd) | isa.Opcode(isa.SourceX), Dst: regNum(m[2]), Imm: int32(w)})
		default:
			a.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassALU64) | isa.Opcode(isa.ALUEnd), Dst: regNum(m[2]), Imm: int32(w)})
		}
		return nil
	}
	memOff := func(sign, n string) int16 {
		v, _ := strconv.Atoi(n)
		if sign == "-" {
			v = -v
		}
		return int16(v)
	}
	if m := asmLoad.FindStringSubmatch(l); m != nil {
		a.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassLDX) | isa.Opcode(sizeOf(m[3])) | isa.Opcode(isa.ModeMEM), Dst: regNum(m[2]), Src: regNum(m[4]), Offset: memOff(m[5], m[6])})
		return nil
	}
	if m := asmStore.FindStringSubmatch(l); m != nil {
		in := isa.Instruction{Dst: regNum(m[2]), Offset: memOff(m[3], m[4])}
		if m[5] != "" {
			in.Opcode = isa.Opcode(isa.ClassSTX) | isa.Opcode(sizeOf(m[1])) | isa.Opcode(isa.ModeMEM)
			in.Src = regNum(m[6])
		} else {
			v, err := parseNum(m[7])
			if err != nil || !fitsImm(v) {
				return fmt.Errorf("bad store immediate")
			}
			in.Opcode = isa.Opcode(isa.ClassST) | isa.Opcode(sizeOf(m[1])) | isa.Opcode(isa.ModeMEM)
			in.Imm = int32(v)
		}
		a.emit(in)
		return nil
	}
	if m := asmAtomic.FindStringSubmatch(l); m != nil {
		ops := map[string]int32{"+": isa.AtomicAdd, "|": isa.AtomicOr, "&": isa.AtomicAnd, "^": isa.AtomicXor, "x": isa.AtomicXchg, "cx": isa.AtomicCmpXchg}
		imm := ops[m[5]]
		if m[7] != "" {
			imm |= isa.AtomicFetch
		}
		a.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassSTX) | isa.Opcode(sizeOf(m[1])) | isa.Opcode(isa.ModeATOMIC), Dst: regNum(m[2]), Src: regNum(m[6]), Offset: memOff(m[3], m[4]), Imm: imm})
		return nil
	}
	if m := asmJump.FindStringSubmatch(l); m != nil {
		c := isa.ClassJMP
		if m[2] == "w" {
			c = isa.ClassJMP32
		}
		op, target := m[4], m[8]
		if m[1] == "assume" {
			op, target = negJump[op], "sink"
		} else if target == "" {
			return fmt.Errorf("if without goto")
		}
		in := isa.Instruction{Dst: regNum(m[3])}
		neg := op == "&!="
		jop := jumpOps[op]
		if neg {
			jop = isa.JumpSet
		}
		in.Opcode = isa.Opcode(c) | isa.Opcode(jop)
		if m[5] != "" {
			in.Opcode |= isa.Opcode(isa.SourceX)
			in.Src = regNum(m[6])
		} else {
			v, err := parseNum(m[7])
			if err != nil || !fitsImm(v) {
				return fmt.Errorf("bad jump immediate")
			}
			in.Imm = int32(v)
		}
		if neg {
			// if !(x & k) goto L: jset over a ja.
			in.Offset = 1
			a.emit(in)
			a.fix = append(a.fix, asmFixup{at: len(a.out), label: target})
			a.emit(isa.Instruction{Opcode: isa.OpJA})
			return nil
		}
		a.fix = append(a.fix, asmFixup{at: len(a.out), label: target})
		a.emit(in)
		return nil
	}
	if m := asmGoto.FindStringSubmatch(l); m != nil {
		a.fix = append(a.fix, asmFixup{at: len(a.out), label: m[1]})
		a.emit(isa.Instruction{Opcode: isa.OpJA})
		return nil
	}
	if m := asmCallL.FindStringSubmatch(l); m != nil {
		a.fix = append(a.fix, asmFixup{at: len(a.out), label: m[1], call: true})
		a.emit(isa.Instruction{Opcode: isa.OpCall, Src: isa.CallLocal})
		return nil
	}
	if m := asmCall.FindStringSubmatch(l); m != nil {
		n, _ := strconv.Atoi(m[1])
		a.emit(isa.Instruction{Opcode: isa.OpCall, Imm: int32(n)})
		return nil
	}
	if m := asmCallX.FindStringSubmatch(l); m != nil {
		a.emit(isa.Instruction{Opcode: isa.OpCallX, Dst: regNum(m[1])})
		return nil
	}
	if m := asmLegacy.FindStringSubmatch(l); m != nil {
		in := isa.Instruction{Opcode: isa.Opcode(isa.ClassLD) | isa.Opcode(sizeOf(m[1]))}
		if m[2] != "" {
			in.Opcode |= isa.Opcode(isa.ModeIND)
			in.Src = regNum(m[2])
		} else {
			in.Opcode |= isa.Opcode(isa.ModeABS)
			n, _ := strconv.Atoi(m[3])
			in.Imm = int32(n)
		}
		a.emit(in)
		return nil
	}
	return fmt.Errorf("unknown instruction")
}
