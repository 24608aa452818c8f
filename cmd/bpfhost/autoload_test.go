package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const autoloadDir = "../../testdata/autoload/"

// TestAutoloadCLI: commands over every program of an object skip the
// programs of "?" sections and say so once; naming one with --program
// verifies or runs it, as the type its section names after the "?".
func TestAutoloadCLI(t *testing.T) {
	obj := autoloadDir + "autoload.o"
	frame := filepath.Join(t.TempDir(), "frame")
	if err := os.WriteFile(frame, make([]byte, 64), 0o644); err != nil {
		t.Fatal(err)
	}
	const note = `skipped 3 programs of "?" sections, not loaded automatically (as libbpf): tc_shot, xdp_drop, xdp_unsafe; name one with --program`

	// verify: only xdp_pass; xdp_unsafe, which every verifier refuses,
	// is skipped, so the object verifies.
	out, stderr, code := cli2(t, "verify", obj, "--json")
	if code != 0 || strings.Count(stderr, note) != 1 {
		t.Fatalf("verify: exit %d, stderr %q", code, stderr)
	}
	var doc struct {
		Programs      []verifyProgram `json:"programs"`
		NotAutoloaded []string        `json:"not_autoloaded"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Programs) != 1 || doc.Programs[0].Name != "xdp_pass" || strings.Join(doc.NotAutoloaded, ",") != "tc_shot,xdp_drop,xdp_unsafe" {
		t.Errorf("verify --json: %s", out)
	}

	// verify --program: the named "?" program is verified.
	out, stderr, code = cli2(t, "verify", obj, "--program", "xdp_unsafe")
	if code != 1 || !strings.Contains(out, "rejected") || strings.Contains(stderr, "skipped") {
		t.Errorf("verify --program xdp_unsafe: exit %d, %q %q", code, out, stderr)
	}
	out, _, code = cli2(t, "verify", obj, "--program", "tc_shot", "--json")
	if code != 0 || !strings.Contains(out, `"section":"?tc","type":"sched_cls"`) {
		t.Errorf("verify --program tc_shot: exit %d, %s", code, out)
	}

	// run: without --program, the only program loaded automatically.
	out, _, code = cli2(t, "run", obj, "--data", frame, "--json")
	if code != 0 || !strings.Contains(out, `"program":"xdp_pass"`) || !strings.Contains(out, `"retval":2`) {
		t.Errorf("run: exit %d, %s", code, out)
	}
	out, _, code = cli2(t, "run", obj, "--program", "xdp_drop", "--data", frame, "--json")
	if code != 0 || !strings.Contains(out, `"retval":1`) {
		t.Errorf("run --program xdp_drop: exit %d, %s", code, out)
	}

	// An object whose every program is in a "?" section: nothing to
	// verify or run without --program (bad input, naming them).
	for _, cmd := range []string{"verify", "run"} {
		out, code = cli(t, cmd, autoloadDir+"only.o")
		if code != 2 || !strings.Contains(out, "only_opt") || !strings.Contains(out, `"?" section`) {
			t.Errorf("%s only.o: exit %d, %s", cmd, code, out)
		}
		args := []string{cmd, autoloadDir + "only.o", "--program", "only_opt"}
		if cmd == "run" {
			args = append(args, "--data", frame)
		}
		if out, code = cli(t, args...); code != 0 {
			t.Errorf("%s only.o --program only_opt: exit %d, %s", cmd, code, out)
		}
	}
	out, code = cli(t, "verify", autoloadDir+"tailcall.o", "--program", "tail")
	if code != 0 {
		t.Errorf("verify tailcall.o --program tail: exit %d, %s", code, out)
	}

	// object show marks them; disasm --jited skips them, saying so.
	out, code = cli(t, "object", "show", obj, "--json")
	if code != 0 || !strings.Contains(out, `{"name":"xdp_drop","section":"?xdp","autoload":false,"type":"xdp"`) {
		t.Errorf("object show: exit %d, %s", code, out)
	}
	out, stderr, code = cli2(t, "disasm", obj, "--jited")
	if code != 0 || strings.Contains(out, "xdp_unsafe") || strings.Count(stderr, note) != 1 {
		t.Errorf("disasm --jited: exit %d, %q %q", code, out, stderr)
	}
}
