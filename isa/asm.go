package isa

import (
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Assemble translates the text dialect of the bpf_conformance suite (and of
// uBPF) into instruction slots. One instruction per line, operands separated
// by commas, '#' starts a comment and "name:" defines a label:
//
//	mov32 %r0, 1
//	ldxdw %r2, [%r1+8]
//	lock fetch add [%r10-8], %r1
//	jeq %r1, 0x1, done
//	call local func1
//	done:
//	exit
//
// Jump targets are labels or signed slot offsets ("+2"). A jump to the label
// "exit", where no such label is defined, goes to the program's first exit
// instruction, as in the suite's own assembler.
// ".raw" followed by 16 hex digits emits one slot as encoded, for forms the
// dialect has no syntax for. Errors name the line. Assemble does not validate the program as a whole;
// call Validate for that.
func Assemble(src string) ([]Instruction, error) {
	type line struct {
		no       int
		mnemonic string
		operands []string
		pc       int
	}
	var lines []line
	labels := map[string]int{}
	pc := 0
	for i, raw := range strings.Split(src, "\n") {
		text := raw
		if j := strings.IndexByte(text, '#'); j >= 0 {
			text = text[:j]
		}
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		if name, ok := strings.CutSuffix(text, ":"); ok {
			name = strings.TrimSpace(name)
			if !isIdent(name) {
				return nil, fmt.Errorf("line %d: invalid label %q", i+1, name)
			}
			if _, dup := labels[name]; dup {
				return nil, fmt.Errorf("line %d: label %q defined twice", i+1, name)
			}
			labels[name] = pc
			continue
		}
		mnemonic, rest, _ := strings.Cut(text, " ")
		if k := strings.IndexByte(mnemonic, '\t'); k >= 0 {
			mnemonic, rest = mnemonic[:k], mnemonic[k+1:]+" "+rest
		}
		var ops []string
		if rest = strings.TrimSpace(rest); rest != "" {
			for _, op := range strings.Split(rest, ",") {
				ops = append(ops, strings.TrimSpace(op))
			}
		}
		lines = append(lines, line{no: i + 1, mnemonic: strings.ToLower(mnemonic), operands: ops, pc: pc})
		if lines[len(lines)-1].mnemonic == "lddw" {
			pc += 2
		} else {
			pc++
		}
	}

	exits := []int{} // slot indices of exit instructions, in order
	for _, l := range lines {
		if l.mnemonic == "exit" {
			exits = append(exits, l.pc)
		}
	}
	prog := make([]Instruction, 0, pc)
	for _, l := range lines {
		a := assembler{ops: l.operands, pc: l.pc, labels: labels, exits: exits}
		ins, err := a.instruction(l.mnemonic)
		if err != nil {
			return nil, fmt.Errorf("line %d: %s: %w", l.no, l.mnemonic, err)
		}
		prog = append(prog, ins...)
	}
	return prog, nil
}

type assembler struct {
	ops    []string
	pc     int
	labels map[string]int
	exits  []int
}

var aluMnemonics = map[string]ALUOp{
	"add": ALUAdd, "sub": ALUSub, "mul": ALUMul, "div": ALUDiv, "or": ALUOr, "and": ALUAnd,
	"lsh": ALULsh, "rsh": ALURsh, "mod": ALUMod, "xor": ALUXor, "mov": ALUMov, "arsh": ALUArsh,
	"sdiv": ALUDiv, "smod": ALUMod,
}

var jumpMnemonics = map[string]JumpOp{
	"jeq": JumpEq, "jgt": JumpGT, "jge": JumpGE, "jset": JumpSet, "jne": JumpNE, "jsgt": JumpSGT,
	"jsge": JumpSGE, "jlt": JumpLT, "jle": JumpLE, "jslt": JumpSLT, "jsle": JumpSLE,
}

var sizeSuffixes = map[string]Size{"b": SizeB, "h": SizeH, "w": SizeW, "dw": SizeDW}

var atomicMnemonics = map[string]int32{
	"add": AtomicAdd, "or": AtomicOr, "and": AtomicAnd, "xor": AtomicXor,
	"xchg": AtomicXchg, "cmpxchg": AtomicCmpXchg,
}

func (a *assembler) want(n int) error {
	if len(a.ops) != n {
		return fmt.Errorf("want %d operands, have %d", n, len(a.ops))
	}
	return nil
}

func (a *assembler) instruction(m string) ([]Instruction, error) {
	one := func(ins Instruction, err error) ([]Instruction, error) {
		if err != nil {
			return nil, err
		}
		return []Instruction{ins}, nil
	}
	switch {
	case m == "exit":
		return one(Instruction{Opcode: OpExit}, a.want(0))
	case m == "lddw":
		if err := a.want(2); err != nil {
			return nil, err
		}
		dst, err := parseRegister(a.ops[0])
		if err != nil {
			return nil, err
		}
		v, err := parseImm64(a.ops[1])
		if err != nil {
			return nil, err
		}
		pair := LoadImm64(dst, PseudoImm64, v)
		return pair[:], nil
	case m == "call":
		return one(a.call())
	case m == "ja" || m == "ja32":
		if err := a.want(1); err != nil {
			return nil, err
		}
		off, err := a.target(a.ops[0])
		if err != nil {
			return nil, err
		}
		if m == "ja32" {
			return one(Instruction{Opcode: OpJA32, Imm: int32(off)}, nil)
		}
		o16, err := fitOffset(off)
		return one(Instruction{Opcode: OpJA, Offset: o16}, err)
	case m == ".raw":
		if err := a.want(1); err != nil {
			return nil, err
		}
		b, err := hex.DecodeString(a.ops[0])
		if err != nil || len(b) != InstructionSize {
			return nil, fmt.Errorf("want 16 hex digits, have %q", a.ops[0])
		}
		return []Instruction{DecodeInstruction(b)}, nil
	case strings.HasPrefix(m, "lock"):
		return one(a.atomic(m))
	}
	if ins, ok, err := a.alu(m); ok {
		return one(ins, err)
	}
	if ins, ok, err := a.jump(m); ok {
		return one(ins, err)
	}
	if ins, ok, err := a.memory(m); ok {
		return one(ins, err)
	}
	return nil, fmt.Errorf("unknown mnemonic")
}

// alu handles arithmetic, negation, byte swaps and sign-extending moves.
func (a *assembler) alu(m string) (Instruction, bool, error) {
	cls := ClassALU64
	base := m
	if s, ok := strings.CutSuffix(m, "32"); ok && !strings.HasPrefix(m, "movsx") && !strings.HasPrefix(m, "be") && !strings.HasPrefix(m, "le") && !strings.HasPrefix(m, "bswap") && !strings.HasPrefix(m, "swap") {
		cls, base = ClassALU, s
	} else if s, ok := strings.CutSuffix(m, "64"); ok && !strings.HasPrefix(m, "movsx") && !strings.HasPrefix(m, "be") && !strings.HasPrefix(m, "le") && !strings.HasPrefix(m, "bswap") && !strings.HasPrefix(m, "swap") {
		base = s
	}
	switch {
	case base == "neg":
		if err := a.want(1); err != nil {
			return Instruction{}, true, err
		}
		dst, err := parseRegister(a.ops[0])
		return Instruction{Opcode: Opcode(cls) | Opcode(ALUNeg), Dst: dst}, true, err
	case strings.HasPrefix(m, "be") || strings.HasPrefix(m, "le") || strings.HasPrefix(m, "bswap") || strings.HasPrefix(m, "swap"):
		if w, ok := strings.CutPrefix(m, "swap"); ok { // the suite's alias
			m = "bswap" + w
		}
		var op Opcode
		var width string
		switch {
		case strings.HasPrefix(m, "bswap"):
			op, width = Opcode(ClassALU64)|Opcode(ALUEnd), m[5:]
		case strings.HasPrefix(m, "be"):
			op, width = Opcode(ClassALU)|Opcode(ALUEnd)|Opcode(SourceX), m[2:]
		default:
			op, width = Opcode(ClassALU)|Opcode(ALUEnd), m[2:]
		}
		if width != "16" && width != "32" && width != "64" {
			return Instruction{}, false, nil
		}
		if err := a.want(1); err != nil {
			return Instruction{}, true, err
		}
		dst, err := parseRegister(a.ops[0])
		w, _ := strconv.Atoi(width)
		return Instruction{Opcode: op, Dst: dst, Imm: int32(w)}, true, err
	case strings.HasPrefix(m, "movsx"):
		var from, to int
		switch m[5:] {
		case "832":
			from, to = 8, 32
		case "1632":
			from, to = 16, 32
		case "864":
			from, to = 8, 64
		case "1664":
			from, to = 16, 64
		case "3264":
			from, to = 32, 64
		default:
			return Instruction{}, false, nil
		}
		cls = ClassALU64
		if to == 32 {
			cls = ClassALU
		}
		if err := a.want(2); err != nil {
			return Instruction{}, true, err
		}
		dst, err := parseRegister(a.ops[0])
		if err != nil {
			return Instruction{}, true, err
		}
		src, err := parseRegister(a.ops[1])
		return Instruction{Opcode: Opcode(cls) | Opcode(ALUMov) | Opcode(SourceX), Dst: dst, Src: src, Offset: int16(from)}, true, err
	}
	aop, ok := aluMnemonics[base]
	if !ok {
		return Instruction{}, false, nil
	}
	if err := a.want(2); err != nil {
		return Instruction{}, true, err
	}
	ins := Instruction{Opcode: Opcode(cls) | Opcode(aop)}
	if base == "sdiv" || base == "smod" {
		ins.Offset = 1
	}
	var err error
	if ins.Dst, err = parseRegister(a.ops[0]); err != nil {
		return ins, true, err
	}
	if isRegister(a.ops[1]) {
		ins.Opcode |= Opcode(SourceX)
		ins.Src, err = parseRegister(a.ops[1])
		return ins, true, err
	}
	ins.Imm, err = parseImm32(a.ops[1])
	return ins, true, err
}

func (a *assembler) jump(m string) (Instruction, bool, error) {
	cls := ClassJMP
	base := m
	if s, ok := strings.CutSuffix(m, "32"); ok {
		cls, base = ClassJMP32, s
	}
	jop, ok := jumpMnemonics[base]
	if !ok {
		return Instruction{}, false, nil
	}
	if err := a.want(3); err != nil {
		return Instruction{}, true, err
	}
	ins := Instruction{Opcode: Opcode(cls) | Opcode(jop)}
	var err error
	if ins.Dst, err = parseRegister(a.ops[0]); err != nil {
		return ins, true, err
	}
	if isRegister(a.ops[1]) {
		ins.Opcode |= Opcode(SourceX)
		if ins.Src, err = parseRegister(a.ops[1]); err != nil {
			return ins, true, err
		}
	} else if ins.Imm, err = parseImm32(a.ops[1]); err != nil {
		return ins, true, err
	}
	off, err := a.target(a.ops[2])
	if err != nil {
		return ins, true, err
	}
	ins.Offset, err = fitOffset(off)
	return ins, true, err
}

// memory handles ldx*, st*, stx*, ldabs* and ldind*.
func (a *assembler) memory(m string) (Instruction, bool, error) {
	var cls Class
	mode := ModeMEM
	var suffix string
	switch {
	case strings.HasPrefix(m, "ldabs"):
		cls, mode, suffix = ClassLD, ModeABS, m[5:]
	case strings.HasPrefix(m, "ldind"):
		cls, mode, suffix = ClassLD, ModeIND, m[5:]
	case strings.HasPrefix(m, "ldxs"):
		cls, mode, suffix = ClassLDX, ModeMEMSX, m[4:]
	case strings.HasPrefix(m, "ldx"):
		cls, suffix = ClassLDX, m[3:]
	case strings.HasPrefix(m, "stx"):
		cls, suffix = ClassSTX, m[3:]
	case strings.HasPrefix(m, "st"):
		cls, suffix = ClassST, m[2:]
	default:
		return Instruction{}, false, nil
	}
	size, ok := sizeSuffixes[suffix]
	if !ok || (size == SizeDW && (mode != ModeMEM)) {
		return Instruction{}, false, nil
	}
	ins := Instruction{Opcode: Opcode(cls) | Opcode(size) | Opcode(mode)}
	var err error
	switch {
	case mode == ModeABS:
		if err = a.want(1); err == nil {
			ins.Imm, err = parseImm32(a.ops[0])
		}
	case mode == ModeIND:
		if err = a.want(2); err == nil {
			if ins.Src, err = parseRegister(a.ops[0]); err == nil {
				ins.Imm, err = parseImm32(a.ops[1])
			}
		}
	case cls == ClassLDX:
		if err = a.want(2); err == nil {
			if ins.Dst, err = parseRegister(a.ops[0]); err == nil {
				ins.Src, ins.Offset, err = parseMemory(a.ops[1])
			}
		}
	case cls == ClassST:
		if err = a.want(2); err == nil {
			if ins.Dst, ins.Offset, err = parseMemory(a.ops[0]); err == nil {
				ins.Imm, err = parseImm32(a.ops[1])
			}
		}
	default:
		if err = a.want(2); err == nil {
			if ins.Dst, ins.Offset, err = parseMemory(a.ops[0]); err == nil {
				ins.Src, err = parseRegister(a.ops[1])
			}
		}
	}
	return ins, true, err
}

// atomic handles "lock [fetch] OP[32] [%rD+off], %rS".
func (a *assembler) atomic(m string) (Instruction, error) {
	words := strings.Fields(m)
	// The mnemonic was cut at the first space; the rest of the words are in
	// the first operand.
	if len(a.ops) == 0 {
		return Instruction{}, fmt.Errorf("invalid number of operands for lock")
	}
	first := strings.Fields(a.ops[0])
	if len(first) == 0 || len(a.ops) != 2 {
		return Instruction{}, fmt.Errorf("invalid number of operands for lock")
	}
	words = append(words, first[:len(first)-1]...)
	if len(words) < 2 {
		return Instruction{}, fmt.Errorf("invalid number of operands for lock")
	}
	mem := first[len(first)-1]
	fetch := false
	opWord := words[1]
	if opWord == "fetch" {
		if len(words) != 3 {
			return Instruction{}, fmt.Errorf("invalid lock operation %q", strings.Join(words[1:], " "))
		}
		fetch, opWord = true, words[2]
	} else if len(words) != 2 {
		return Instruction{}, fmt.Errorf("invalid lock operation %q", strings.Join(words[1:], " "))
	}
	size := SizeDW
	if s, ok := strings.CutSuffix(opWord, "32"); ok {
		size, opWord = SizeW, s
	}
	imm, ok := atomicMnemonics[opWord]
	if !ok {
		return Instruction{}, fmt.Errorf("unknown atomic operation %q", opWord)
	}
	if fetch {
		if imm == AtomicXchg || imm == AtomicCmpXchg {
			return Instruction{}, fmt.Errorf("%s always fetches; drop \"fetch\"", opWord)
		}
		imm |= AtomicFetch
	}
	ins := Instruction{Opcode: Opcode(ClassSTX) | Opcode(size) | Opcode(ModeATOMIC), Imm: imm}
	var err error
	if ins.Dst, ins.Offset, err = parseMemory(mem); err != nil {
		return ins, err
	}
	ins.Src, err = parseRegister(a.ops[1])
	return ins, err
}

func (a *assembler) call() (Instruction, error) {
	if len(a.ops) != 1 {
		return Instruction{}, fmt.Errorf("want 1 operand, have %d", len(a.ops))
	}
	op := a.ops[0]
	if name, ok := strings.CutPrefix(op, "local "); ok {
		off, err := a.target(strings.TrimSpace(name))
		return Instruction{Opcode: OpCall, Src: CallLocal, Imm: int32(off)}, err
	}
	if isRegister(op) {
		r, err := parseRegister(op)
		return Instruction{Opcode: OpCallX, Dst: r}, err
	}
	imm, err := parseImm32(op)
	return Instruction{Opcode: OpCall, Imm: imm}, err
}

// target resolves a label or a signed offset to an offset relative to the
// slot after this one.
func (a *assembler) target(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("missing jump target")
	}
	if s[0] == '+' || s[0] == '-' || (s[0] >= '0' && s[0] <= '9') {
		v, err := strconv.ParseInt(s, 0, 32)
		if err != nil {
			return 0, fmt.Errorf("invalid jump offset %q", s)
		}
		return int(v), nil
	}
	if t, ok := a.labels[s]; ok {
		return t - a.pc - 1, nil
	}
	if s == "exit" && len(a.exits) > 0 {
		return a.exits[0] - a.pc - 1, nil
	}
	return 0, fmt.Errorf("undefined label %q", s)
}

func fitOffset(off int) (int16, error) {
	if off < math.MinInt16 || off > math.MaxInt16 {
		return 0, fmt.Errorf("jump offset %d does not fit in 16 bits", off)
	}
	return int16(off), nil
}

func isRegister(s string) bool {
	return strings.HasPrefix(s, "%r") || strings.HasPrefix(s, "r") && len(s) > 1 && s[1] >= '0' && s[1] <= '9'
}

func parseRegister(s string) (Register, error) {
	name := strings.TrimPrefix(strings.TrimSpace(s), "%")
	num, ok := strings.CutPrefix(name, "r")
	if !ok {
		return 0, fmt.Errorf("invalid register %q", s)
	}
	n, err := strconv.ParseUint(num, 10, 8)
	if err != nil || n > uint64(R10) {
		return 0, fmt.Errorf("invalid register %q", s)
	}
	return Register(n), nil
}

// parseMemory parses "[%rN]", "[%rN+off]" or "[%rN-off]".
func parseMemory(s string) (Register, int16, error) {
	s = strings.ReplaceAll(s, " ", "")
	inner, ok := strings.CutPrefix(s, "[")
	if ok {
		inner, ok = strings.CutSuffix(inner, "]")
	}
	if !ok {
		return 0, 0, fmt.Errorf("invalid memory operand %q: want [%%rN+offset]", s)
	}
	regText, offText := inner, ""
	if i := strings.IndexAny(inner, "+-"); i >= 0 {
		regText, offText = inner[:i], inner[i:]
	}
	r, err := parseRegister(regText)
	if err != nil {
		return 0, 0, err
	}
	if offText == "" {
		return r, 0, nil
	}
	v, err := parseInt(offText)
	if err != nil || v < math.MinInt16 || v > math.MaxInt16 {
		return 0, 0, fmt.Errorf("invalid memory offset %q: must fit in 16 bits", offText)
	}
	return r, int16(v), nil
}

// parseImm32 accepts decimal values in the int32 range and hexadecimal
// values up to 0xffffffff (taken as their 32-bit pattern).
func parseImm32(s string) (int32, error) {
	v, err := parseInt(s)
	if err != nil {
		return 0, err
	}
	hex := strings.Contains(strings.ToLower(s), "0x")
	switch {
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return int32(v), nil
	case hex && v > 0 && v <= math.MaxUint32:
		return int32(uint32(v)), nil
	}
	return 0, fmt.Errorf("immediate %s does not fit in 32 bits", s)
}

// parseImm64 accepts any value that fits in 64 bits, signed or unsigned.
func parseImm64(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-") {
		v, err := strconv.ParseInt(s, 0, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid immediate %q", s)
		}
		return uint64(v), nil
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "+"), 0, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid immediate %q", s)
	}
	return v, nil
}

func parseInt(s string) (int64, error) {
	s = strings.TrimSpace(s)
	v, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	return v, nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
