package main

import (
	"encoding/hex"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/internal/conformance"
)

func spaced(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = hex.EncodeToString([]byte{c})
	}
	return strings.Join(parts, " ")
}

// TestPlugin builds the plugin and runs it the way the bpf_conformance runner
// does: memory as the first argument, the program on stdin, r0 on stdout.
func TestPlugin(t *testing.T) {
	dir, err := conformance.Dir()
	if err != nil {
		t.Skipf("conformance suite absent: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "conformance-plugin")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	fixtures, err := conformance.LoadFixtures(dir)
	if err != nil {
		t.Fatal(err)
	}
	plugin := func(mem []byte, program []byte, engine string) (string, error) {
		var args []string
		if len(mem) > 0 {
			args = append(args, spaced(mem))
		}
		args = append(args, "--engine", engine)
		cmd := exec.Command(bin, args...)
		cmd.Stdin = strings.NewReader(spaced(program))
		out, err := cmd.Output()
		return strings.TrimSpace(string(out)), err
	}
	for _, engine := range []string{"interp", "jit"} {
		passed := 0
		for _, f := range fixtures {
			prog, _ := f.Program()
			mem, _ := f.Mem()
			want, _ := f.Result()
			out, err := plugin(mem, prog, engine)
			got, perr := strconv.ParseUint(out, 16, 64)
			if err != nil || perr != nil || got != want {
				t.Errorf("%s (%s): output %q, %v; want %#x", f.Name, engine, out, err, want)
				continue
			}
			passed++
		}
		t.Logf("%s: %d of %d fixtures passed", engine, passed, len(fixtures))

		cases, err := conformance.LoadCases(filepath.Join(dir, "negative"))
		if err != nil {
			t.Fatal(err)
		}
		rejected := 0
		for _, c := range cases {
			if !strings.HasPrefix(c.Name, "unused-") {
				continue
			}
			out, err := plugin(nil, c.Raw, engine)
			if _, ok := err.(*exec.ExitError); !ok {
				t.Errorf("%s (%s): exit %v, output %q; want a non-zero exit", c.Name, engine, err, out)
				continue
			}
			rejected++
		}
		if rejected != 45 {
			t.Errorf("%s: rejected %d unused-field programs, want 45", engine, rejected)
		}
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		args  []string
		stdin string
	}{
		{nil, ""},         // no program
		{nil, "zz"},       // not hex
		{nil, "95 00 00"}, // truncated slot
		{[]string{"--engine", "x"}, "95 00 00 00 00 00 00 00"},
		{[]string{"0g"}, "95 00 00 00 00 00 00 00"},
		{nil, "05 00 ff ff 00 00 00 00 95 00 00 00 00 00 00 00"}, // ja -1: budget
	}
	for _, tt := range tests {
		if _, err := run(append(tt.args, "--budget", "1000"), strings.NewReader(tt.stdin)); err == nil {
			t.Errorf("args %q stdin %q: no error", tt.args, tt.stdin)
		}
	}
}
