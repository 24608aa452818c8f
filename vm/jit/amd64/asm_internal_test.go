package amd64

import (
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// encodings are instructions with operands that need special forms (REX for
// byte registers and r8-r15, SIB for r12, a displacement for rbp and r13)
// and their encodings, as objdump disassembles them (see TestObjdump), and
// as the listing's decoder (golang.org/x/arch) prints them.
var encodings = []struct {
	emit  func(a *assembler)
	hex   string
	text  string
	intel string
}{
	{func(a *assembler) { a.aluRR(opAdd, true, rax, rdi) }, "4801f8", "add %rdi,%rax", "add rax, rdi"},
	{func(a *assembler) { a.aluRR(opXor, false, r13, r15) }, "4531fd", "xor %r15d,%r13d", "xor r13d, r15d"},
	{func(a *assembler) { a.aluRI(extSub, true, r12, 1) }, "4983ec01", "sub $0x1,%r12", "sub r12, 0x1"},
	{func(a *assembler) { a.aluRI(extAnd, false, rsi, 0x12345) }, "81e645230100", "and $0x12345,%esi", "and esi, 0x12345"},
	{func(a *assembler) { a.aluRI(extCmp, true, rbx, -1) }, "4883fbff", "cmp $0xffffffffffffffff,%rbx", "cmp rbx, -0x1"},
	{func(a *assembler) { a.testRI(true, rdi, 1) }, "48f7c701000000", "test $0x1,%rdi", "test rdi, 0x1"},
	{func(a *assembler) { a.movImm(r14, 0) }, "4531f6", "xor %r14d,%r14d", "xor r14d, r14d"},
	{func(a *assembler) { a.movImm(rax, 0xffffffff) }, "b8ffffffff", "mov $0xffffffff,%eax", "mov eax, -0x1"},
	{func(a *assembler) { a.movImm(r8, 0xffffffffffffff00) }, "49c7c000ffffff", "mov $0xffffffffffffff00,%r8", "mov r8, -0x100"},
	{func(a *assembler) { a.movImm(r15, 0x1122334455667788) }, "49bf8877665544332211", "movabs $0x1122334455667788,%r15", "mov r15, 0x1122334455667788"},
	{func(a *assembler) { a.load(true, rax, rbp, -8) }, "488b45f8", "mov -0x8(%rbp),%rax", "mov rax, qword ptr [rbp-0x8]"},
	{func(a *assembler) { a.load(false, rdx, r13, 0) }, "418b5500", "mov 0x0(%r13),%edx", "mov edx, dword ptr [r13]"},
	{func(a *assembler) { a.load(true, rcx, r12, 0x200) }, "498b8c2400020000", "mov 0x200(%r12),%rcx", "mov rcx, qword ptr [r12+0x200]"},
	{func(a *assembler) { a.store(true, r9, 8, rdi) }, "49897908", "mov %rdi,0x8(%r9)", "mov qword ptr [r9+0x8], rdi"},
	{func(a *assembler) { a.rm(0, false, true, []byte{0x88}, rsi, rbp, -1) }, "408875ff", "mov %sil,-0x1(%rbp)", "mov byte ptr [rbp-0x1], sil"},
	{func(a *assembler) { a.rm(0x66, false, false, []byte{0x89}, r13, rdi, 2) }, "6644896f02", "mov %r13w,0x2(%rdi)", "mov word ptr [rdi+0x2], r13w"},
	{func(a *assembler) { a.rr(0, true, true, []byte{0x0f, 0xbe}, rax, rdi) }, "480fbec7", "movsbq %dil,%rax", "movsx rax, dil"},
	{func(a *assembler) { a.rm(0xf0, true, false, []byte{0x0f, 0xc1}, rsi, rbp, -16) }, "f0480fc175f0", "lock xadd %rsi,-0x10(%rbp)", "lock xadd qword ptr [rbp-0x10], rsi"},
	{func(a *assembler) { a.rm(0xf0, false, false, []byte{0x0f, 0xb1}, r11, r10, 0) }, "f0450fb11a", "lock cmpxchg %r11d,(%r10)", "lock cmpxchg dword ptr [r10], r11d"},
	{func(a *assembler) { a.shiftRI(0, extSar, true, r13, 3) }, "49c1fd03", "sar $0x3,%r13", "sar r13, 0x3"},
	{func(a *assembler) { a.shiftRI(0x66, extRol, false, rbx, 8) }, "66c1c308", "rol $0x8,%bx", "rol bx, 0x8"},
	{func(a *assembler) { a.shiftRCL(extShl, false, r11) }, "41d3e3", "shl %cl,%r11d", "shl r11d, cl"},
	{func(a *assembler) { a.unary(extIdiv, true, r11) }, "49f7fb", "idiv %r11", "idiv r11"},
	{func(a *assembler) { a.lea(r10, rbp, -512) }, "4c8d9500feffff", "lea -0x200(%rbp),%r10", "lea r10, [rbp-0x200]"},
	{func(a *assembler) { a.jmpMem(r9, 0x60) }, "41ff6160", "jmp *0x60(%r9)", "jmp qword ptr [r9+0x60]"},
	{func(a *assembler) { a.aluMI(extSub, r9, 0, 1) }, "49832901", "subq $0x1,(%r9)", "sub qword ptr [r9], 0x1"},
}

// TestEncodings checks the assembler against hand-checked encodings.
func TestEncodings(t *testing.T) {
	for _, e := range encodings {
		var a assembler
		e.emit(&a)
		if got := hex.EncodeToString(a.buf); got != e.hex {
			t.Errorf("%s: encoded %s, want %s", e.text, got, e.hex)
		}
	}
}

// TestDecode checks the listing's decoder against the encodings.
func TestDecode(t *testing.T) {
	for _, e := range encodings {
		var a assembler
		e.emit(&a)
		n, text, _ := decode(a.buf, 0)
		if n != len(a.buf) || text != e.intel {
			t.Errorf("%s: decoded %d bytes as %q, want %d, %q", e.hex, n, text, len(a.buf), e.intel)
		}
	}
	for _, bad := range [][]byte{{0x0f}, {0x48}, {0x8d, 0xc0}, {0x06}, {0x49, 0xbf, 1, 2}} {
		if n, text, _ := decode(bad, 0); n != 1 || text != "(bad)" {
			t.Errorf("%x: decoded %d bytes as %q, want (bad)", bad, n, text)
		}
	}
}

// TestObjdump disassembles the encodings with objdump, when it is installed,
// and compares its text.
func TestObjdump(t *testing.T) {
	objdump, err := exec.LookPath("objdump")
	if err != nil {
		t.Skip("objdump not installed")
	}
	var a assembler
	for _, e := range encodings {
		e.emit(&a)
	}
	bin := filepath.Join(t.TempDir(), "code.bin")
	if err := os.WriteFile(bin, a.buf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(objdump, "-D", "-b", "binary", "-m", "i386:x86-64", bin).Output()
	if err != nil {
		t.Skipf("objdump cannot disassemble x86-64: %v", err)
	}
	var got []string
	for _, line := range strings.Split(string(out), "\n") {
		parts := strings.Split(line, "\t")
		if len(parts) == 3 && strings.HasSuffix(strings.TrimSpace(parts[0]), ":") {
			got = append(got, strings.Join(strings.Fields(parts[2]), " "))
		}
	}
	if len(got) != len(encodings) {
		t.Fatalf("objdump shows %d instructions, want %d:\n%s", len(got), len(encodings), out)
	}
	for i, e := range encodings {
		if got[i] != e.text {
			t.Errorf("instruction %d: objdump says %q, want %q", i, got[i], e.text)
		}
	}
}
