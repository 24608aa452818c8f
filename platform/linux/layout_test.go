package linux

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/platform"
)

// allDescriptors returns every context descriptor the ABI reaches: program
// contexts, the structures their pointer fields point to and helper return
// structures, each once.
func allDescriptors(a *platform.ABI) []*platform.ContextDescriptor {
	seen := map[*platform.ContextDescriptor]bool{}
	var out []*platform.ContextDescriptor
	var walk func(d *platform.ContextDescriptor)
	walk = func(d *platform.ContextDescriptor) {
		if d == nil || seen[d] {
			return
		}
		seen[d] = true
		out = append(out, d)
		for i := range d.Fields {
			walk(d.Fields[i].Target)
		}
	}
	for _, p := range a.Programs() {
		walk(p.Context)
	}
	for _, h := range a.Helpers() {
		walk(h.RetStruct)
	}
	return out
}

// notMembers are fields that are not C members of their structure.
var notMembers = map[string]bool{
	"bpf_flow_keys.keys":            true, // the whole structure as one field
	"bpf_sk_lookup.remote_port_pad": true, // the unnamed padding after remote_port
}

// TestLayoutsMatchHeaders compiles a C program that prints offsetof and
// sizeof for every field of every descriptor that has a C type, and compares
// them with the tables. It needs gcc and the kernel UAPI headers
// (linux-libc-dev); pt_regs layouts are checked only on amd64 hosts, whose
// headers define the x86-64 struct pt_regs these tables use.
func TestLayoutsMatchHeaders(t *testing.T) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not found")
	}
	if _, err := os.Stat("/usr/include/linux/bpf.h"); err != nil {
		t.Skip("linux/bpf.h not installed (apt-get install linux-libc-dev)")
	}
	x86 := runtime.GOOS == "linux" && runtime.GOARCH == "amd64"

	var src bytes.Buffer
	src.WriteString("#include <stdio.h>\n#include <stddef.h>\n#include <linux/bpf.h>\n")
	if x86 {
		src.WriteString("#include <asm/ptrace.h>\n#include <linux/bpf_perf_event.h>\n")
	}
	src.WriteString("int main(void) {\n")
	type want struct{ off, size int }
	wants := map[string]want{}
	checked := 0
	for _, d := range allDescriptors(testABI(t)) {
		if d.CType == "" || (!x86 && (d.Name == "pt_regs" || d.Name == "bpf_perf_event_data")) {
			continue
		}
		checked++
		fmt.Fprintf(&src, "\tprintf(\"%s %%zu %%zu\\n\", (size_t)0, sizeof(%s));\n", d.Name, d.CType)
		wants[d.Name] = want{0, d.Size}
		for _, f := range d.Fields {
			key := d.Name + "." + f.Name
			if notMembers[key] {
				continue
			}
			size := fmt.Sprintf("sizeof(((%s *)0)->%s)", d.CType, f.Name)
			if strings.Contains(f.Name, "[") {
				size = "(size_t)0" // a range of array elements: only the offset is a C fact
			}
			fmt.Fprintf(&src, "\tprintf(\"%s %%zu %%zu\\n\", offsetof(%s, %s), %s);\n", key, d.CType, f.Name, size)
			w := want{f.Offset, f.Size}
			if strings.Contains(f.Name, "[") {
				w.size = 0
			}
			wants[key] = w
		}
	}
	src.WriteString("\treturn 0;\n}\n")

	dir := t.TempDir()
	cfile := filepath.Join(dir, "layout.c")
	bin := filepath.Join(dir, "layout")
	if err := os.WriteFile(cfile, src.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(gcc, "-o", bin, cfile).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s\n%s", err, out, src.String())
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]want{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		parts := strings.Fields(sc.Text())
		off, _ := strconv.Atoi(parts[1])
		size, _ := strconv.Atoi(parts[2])
		got[parts[0]] = want{off, size}
	}
	for key, w := range wants {
		g, ok := got[key]
		if !ok {
			t.Errorf("%s: not printed", key)
		} else if g != w {
			t.Errorf("%s: table has offset %d size %d, C has offset %d size %d", key, w.off, w.size, g.off, g.size)
		}
	}
	t.Logf("checked %d structures, %d fields against the C headers", checked, len(wants)-checked)
}
