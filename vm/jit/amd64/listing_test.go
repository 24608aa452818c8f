package amd64_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/helpers"
	"github.com/bpfhost/bpfhost/internal/conformance"
	"github.com/bpfhost/bpfhost/internal/enginetest"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
	"github.com/bpfhost/bpfhost/vm/jit/amd64"
)

// listingProgram uses most instruction families: lddw, atomics, divisions,
// byte swaps, a callback's address, sign-extending loads and stores of each
// size.
const listingProgram = `
	lddw %r1, 0x1122334455667788
	mov %r2, %r10
	add %r2, -16
	stxdw [%r2], %r1
	lock fetch add [%r10-16], %r1
	lock fetch or [%r10-16], %r1
	ldxsh %r3, [%r10-16]
	stxb [%r10-1], %r3
	sth [%r10-4], 7
	div %r1, %r3
	smod32 %r1, -1
	be16 %r1
	bswap64 %r1
	lddw %r4, 0
	call local f
	mov %r0, %r0
	exit
f:
	mov %r0, 1
	exit
`

// listingPrograms are the programs whose listings the tests check.
var listingPrograms = map[string]string{"arith": enginetest.ArithLoop, "memory": enginetest.MemLoop, "calls": callLoop, "families": listingProgram}

// listing compiles src and returns its listing and program.
func listing(t *testing.T, src string, mode vm.Mode) ([]amd64.Block, []isa.Instruction) {
	t.Helper()
	prog, err := isa.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	exe, err := amd64.New().Compile(&vm.Program{Instructions: prog, Helpers: benchHelpers}, vm.CompileOptions{Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	defer exe.Close()
	blocks, err := amd64.Listing(exe)
	if err != nil {
		t.Fatal(err)
	}
	return blocks, prog
}

// checkListing checks the shape of a listing: shared routines first, one
// block per slot in order (none for the second halves of lddw), then
// out-of-line code; the blocks cover the code without gaps, and every
// instruction decodes, its bytes adding up to the block's.
func checkListing(blocks []amd64.Block, prog []isa.Instruction) error {
	if len(blocks) < 4 || blocks[0].Name != "entry" || blocks[1].Name != "exit" || blocks[2].Name != "done" || blocks[3].Name != "return" {
		return fmt.Errorf("listing does not start with the shared routines")
	}
	pc, offset := 0, 0
	base := blocks[0].Addr - uintptr(blocks[0].Offset)
	for i, b := range blocks {
		if b.Offset != offset || b.Addr != base+uintptr(b.Offset) {
			return fmt.Errorf("block %d (%s) at %#x (address %#x), want %#x", i, b.Name, b.Offset, b.Addr, offset)
		}
		offset += len(b.Code)
		switch {
		case i < 4:
			if b.PC != -1 || len(b.Code) == 0 {
				return fmt.Errorf("shared block %s: pc %d, %d bytes", b.Name, b.PC, len(b.Code))
			}
		case !b.OutOfLine:
			if b.PC != pc {
				return fmt.Errorf("block %d is slot %d, want %d", i, b.PC, pc)
			}
			nop := prog[pc] == isa.Instruction{Opcode: isa.Opcode(isa.ClassALU64) | isa.Opcode(isa.ALUMov) | isa.Opcode(isa.SourceX)}
			if (len(b.Code) == 0) != nop {
				return fmt.Errorf("slot %d (%s): %d bytes of code", pc, b.Name, len(b.Code))
			}
			pc++
			if prog[b.PC].IsLoadImm64() {
				pc++
			}
		default:
			if pc != len(prog) || b.PC < 0 || b.PC >= len(prog) || len(b.Code) == 0 {
				return fmt.Errorf("out-of-line block %d of slot %d (%d bytes) before slot %d", i, b.PC, len(b.Code), pc)
			}
		}
		n := 0
		for _, line := range b.Insns {
			if strings.Contains(line, "(bad)") {
				return fmt.Errorf("slot %d: undecodable code: %s", b.PC, line)
			}
			hex, _, _ := strings.Cut(line, "  ")
			n += len(strings.Fields(hex))
		}
		if n != len(b.Code) {
			return fmt.Errorf("slot %d: instructions cover %d of %d bytes", b.PC, n, len(b.Code))
		}
	}
	if pc != len(prog) {
		return fmt.Errorf("listing ends at slot %d of %d", pc, len(prog))
	}
	return nil
}

// TestListing checks the shape of the listings of a few programs in both
// modes, and errors for other executables.
func TestListing(t *testing.T) {
	for name, src := range listingPrograms {
		for _, mode := range modes {
			blocks, prog := listing(t, src, mode)
			if err := checkListing(blocks, prog); err != nil {
				t.Errorf("%s (%v): %v", name, mode, err)
			}
		}
	}
	prog, _ := isa.Assemble("mov %r0, 1\nexit")
	ref, err := interp.New().Compile(&vm.Program{Instructions: prog}, vm.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := amd64.Listing(ref); !errors.Is(err, amd64.ErrNotJIT) {
		t.Errorf("listing of an interpreter executable: %v", err)
	}
	exe := compile(t, "mov %r0, 1\nexit", vm.Trusted, nil)
	exe.Close()
	if _, err := amd64.Listing(exe); err == nil {
		t.Errorf("listing of a closed executable: no error")
	}
}

// TestListingText checks the text of a known program's blocks.
func TestListingText(t *testing.T) {
	blocks, _ := listing(t, callLoop, vm.Trusted)
	text := map[int]string{}
	for _, b := range blocks {
		if b.PC >= 0 && !b.OutOfLine {
			text[b.PC] = b.Name + "\n" + strings.Join(b.Insns, "\n")
		}
	}
	want := map[int][]string{
		0:  {"mov %r6, 1000", "bb e8 03 00 00        mov ebx, 0x3e8"},
		1:  {"mov %r7, 0", "xor r13d, r13d", "sub r12, 0x2"}, // charges the first block
		2:  {"mov %r1, %r6", "48 89 df              mov rdi, rbx"},
		3:  {"lea r10, [rip+", "<pc 4>", "sub rbp, 0x200", "jns 0x", "<pc 9>"},
		4:  {"add r13, rax"},
		6:  {"test rbx, rbx", "<pc 2>", "<exit>"},
		10: {"call 1", "mov r11d, 0x", "jmp 0x33 <exit>"},
		11: {"add rbp, 0x200", "jmp qword ptr [r11+0x"},
	}
	for pc, wants := range want {
		for _, w := range wants {
			if !strings.Contains(text[pc], w) {
				t.Errorf("slot %d lacks %q:\n%s", pc, w, text[pc])
			}
		}
	}
	if blocks[0].Insns[0] != "49 8b 01              mov rax, qword ptr [r9]" {
		t.Errorf("entry starts with %q", blocks[0].Insns[0])
	}
}

// TestListingObjdump disassembles the code of many programs (the
// conformance suite, generated programs) with objdump, when it is
// installed, and compares it with the listing's text, instruction by
// instruction.
func TestListingObjdump(t *testing.T) {
	objdump, err := exec.LookPath("objdump")
	if err != nil {
		t.Skip("objdump not installed")
	}
	var progs [][]isa.Instruction
	if dir, err := conformance.Dir(); err == nil {
		cases, err := conformance.LoadCases(filepath.Join(dir, "tests"))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			if prog, err := isa.Assemble(c.Asm); err == nil {
				progs = append(progs, prog)
			}
		}
	}
	n := 200
	if testing.Short() {
		n = 40
	}
	for seed := range n {
		prog, _ := program(uint64(seed))
		progs = append(progs, prog)
	}
	for _, src := range listingPrograms {
		prog, _ := isa.Assemble(src)
		progs = append(progs, prog)
	}
	// Lookups compiled without the helper, in the engine that does so.
	host := newMapHost()
	inline := amd64.NewWithOptions(amd64.Options{Maps: host.inline})
	engines := make([]vm.Engine, len(progs))
	for _, lm := range lookupMaps(t, host, 4) {
		prog, _ := isa.Assemble(lookupSource(lm.ptr, 1, true))
		progs = append(progs, prog)
		engines = append(engines, inline)
	}
	// One objdump run for everything: the code of each program in its own
	// file, compared program by program.
	dir := t.TempDir()
	var files []string
	var listings [][]amd64.Block
	for i, prog := range progs {
		e, h := engines[i], diffHelpers
		if e == nil {
			e = amd64.New()
		} else {
			h = helpers.New(host)
		}
		for _, mode := range modes {
			exe, err := e.Compile(withFacts(&vm.Program{Instructions: prog, Helpers: h}), vm.CompileOptions{Mode: mode})
			if err != nil {
				continue // the suite's programs that the engine refuses
			}
			blocks, err := amd64.Listing(exe)
			exe.Close()
			if err != nil {
				t.Fatal(err)
			}
			if err := checkListing(blocks, prog); err != nil && !strings.Contains(err.Error(), "bytes of code") {
				t.Errorf("program %d (%v): %v", i, mode, err)
			}
			var code []byte
			for _, b := range blocks {
				code = append(code, b.Code...)
			}
			f := filepath.Join(dir, fmt.Sprintf("p%d-%v.bin", i, mode))
			if err := os.WriteFile(f, code, 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
			listings = append(listings, blocks)
		}
	}
	out, err := exec.Command(objdump, append([]string{"-D", "-b", "binary", "-m", "i386:x86-64", "-M", "intel"}, files...)...).Output()
	if err != nil {
		t.Skipf("objdump cannot disassemble x86-64: %v", err)
	}
	sections := regexp.MustCompile(`(?m)^.*p\d+-\w+\.bin:\s+file format binary$`).Split(string(out), -1)[1:]
	if len(sections) != len(files) {
		t.Fatalf("objdump printed %d files, want %d", len(sections), len(files))
	}
	mismatches := 0
	for i, sec := range sections {
		theirs := objdumpText(sec)
		var ours []string
		for _, b := range listings[i] {
			for _, line := range b.Insns {
				_, text, _ := strings.Cut(line, "  ")
				ours = append(ours, normalize(strings.TrimSpace(text)))
			}
		}
		if len(theirs) != len(ours) {
			t.Errorf("%s: objdump shows %d instructions, the listing %d", filepath.Base(files[i]), len(theirs), len(ours))
			continue
		}
		for j := range ours {
			if ours[j] != theirs[j] && mismatches < 20 {
				mismatches++
				t.Errorf("%s: instruction %d: listing %q, objdump %q", filepath.Base(files[i]), j, ours[j], theirs[j])
			}
		}
	}
}

var (
	spaces     = regexp.MustCompile(`\s+`)
	annotation = regexp.MustCompile(` <[^>]*>$`)
)

// objdumpText returns the instructions of one file of objdump's output in
// the listing's spelling: lower case, one space after the mnemonic, none
// after commas, no comments, no empty REX prefixes.
func objdumpText(out string) []string {
	var insns []string
	for _, line := range strings.Split(out, "\n") {
		parts := strings.Split(line, "\t")
		if len(parts) != 3 || !strings.HasSuffix(strings.TrimSpace(parts[0]), ":") {
			continue // continuation lines of long instructions have no text
		}
		text, _, _ := strings.Cut(parts[2], "#")
		text = strings.ToLower(strings.TrimSpace(spaces.ReplaceAllString(text, " ")))
		// objdump names a REX prefix that changes nothing (the assembler
		// adds one when either operand of a byte move is register 4-7).
		insns = append(insns, spelling(strings.TrimPrefix(text, "rex ")))
	}
	return insns
}

// normalize spells a listing instruction as objdumpText does.
func normalize(text string) string {
	return spelling(strings.ReplaceAll(annotation.ReplaceAllString(text, ""), ", ", ","))
}

var (
	number   = regexp.MustCompile(`(-?)0x([0-9a-f]+)`)
	zeroDisp = regexp.MustCompile(`\+0x0\]`)
	scaled   = regexp.MustCompile(`\+([1248])\*([a-z0-9]+)`)
)

// spelling removes the differences between objdump's and x86asm's
// spelling of the same instruction: x86asm writes scaled indexes as
// 4*rax, objdump as rax*4; objdump says movabs for a mov of a
// 64-bit immediate, writes a zero displacement, and prints immediates
// unsigned at the operand's size where x86asm prints them signed. Numbers
// become #hex modulo 2^32 (2^16, 2^8 for word and byte operands) on both
// sides, which keeps 64-bit immediates
// comparable (both print them whole) and displacements exact.
func spelling(text string) string {
	text = strings.Replace(text, "movabs ", "mov ", 1)
	text = zeroDisp.ReplaceAllString(text, "]")
	text = scaled.ReplaceAllString(text, "+$2*$1")
	mask := uint64(1<<32 - 1) // immediates of 16- and 8-bit operations too
	switch {
	case strings.Contains(text, " word ptr"):
		mask = 1<<16 - 1
	case strings.Contains(text, "byte ptr"):
		mask = 1<<8 - 1
	}
	return number.ReplaceAllStringFunc(text, func(m string) string {
		sub := number.FindStringSubmatch(m)
		v, err := strconv.ParseUint(sub[2], 16, 64)
		if err != nil {
			return m
		}
		if sub[1] == "-" {
			v = -v
		}
		return fmt.Sprintf("#%x", v&mask)
	})
}
