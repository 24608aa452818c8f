package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const portlistObj = "../../hooks/sockaddr/testdata/portlist.o"

// execWithMapInit runs bpfhost exec with --map-init holding init, the two
// test objects' connect programs and the client connecting to each
// address; it returns the output, the exit status and the report.
func execWithMapInit(t *testing.T, init string, addrs ...string) (string, int, execReport) {
	t.Helper()
	dir := t.TempDir()
	initFile, report := filepath.Join(dir, "init.json"), filepath.Join(dir, "report.json")
	if err := os.WriteFile(initFile, []byte(init), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"exec", "--map-init", initFile, "--report", report,
		"--attach", "cgroup/connect4=" + sockObj + ":deny_port",
		"--attach", "cgroup/connect4=" + portlistObj + ":deny_listed", "--"}
	var ops []string
	for _, a := range addrs {
		ops = append(ops, "connect", a)
	}
	args = append(args, client(ops...)...)
	cmd := exec.Command(bpfhostBinary(t), args...)
	cmd.Env = append(os.Environ(), clientEnv+"=1")
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var rep execReport
	if b, err := os.ReadFile(report); err == nil {
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
	}
	return string(out), code, rep
}

// --map-init fills the maps of every attached object, not only the
// first's: a map by its name where one object has it, OBJECT:NAME where
// several do; the report names them the same way.
func TestExecMapInitSeveralObjects(t *testing.T) {
	nine, ten := servers(t)
	out, code, rep := execWithMapInit(t, `{
		"blocked": [{"key": "0a000000", "value": "01000000"}],
		"`+sockObj+`:counts": [{"key": "00000000", "value": "6400000000000000"}],
		"`+portlistObj+`:counts": [{"key": "00000000", "value": "0500000000000000"}]
	}`, "127.0.0.1:10", "127.0.0.1:9")
	if code != 0 || out != "EPERM\nEPERM\n" {
		t.Fatalf("exit %d, output %q; want port 10 refused by the blocked map, port 9 by deny_port", code, out)
	}
	if nine.accepted.Load() != 0 || ten.accepted.Load() != 0 {
		t.Error("a refused connect reached a server")
	}
	want := map[string]string{
		"blocked":               "0a000000=01000000",
		sockObj + ":counts":     "00000000=6600000000000000 01000000=0100000000000000",
		portlistObj + ":counts": "00000000=0700000000000000",
	}
	for k, w := range want {
		var got []string
		for _, e := range rep.Maps[k] {
			got = append(got, e.Key+"="+e.Value)
		}
		if strings.Join(got, " ") != w {
			t.Errorf("report map %q: %q, want %q", k, strings.Join(got, " "), w)
		}
	}
	if _, ok := rep.Maps["counts"]; ok {
		t.Error(`report has a map "counts" although two objects have one`)
	}

	// A name two objects use needs its object.
	out, code, _ = execWithMapInit(t, `{"counts": [{"key": "00000000", "value": "0100000000000000"}]}`, "127.0.0.1:10")
	if code == 0 || !strings.Contains(out, `map "counts" is in more than one object: name it OBJECT:counts`) {
		t.Errorf("ambiguous map name: exit %d, output %q", code, out)
	}
	out, code, _ = execWithMapInit(t, `{"nosuch": []}`, "127.0.0.1:10")
	if code == 0 || !strings.Contains(out, `no map "nosuch" in the objects (`+sockObj+", "+portlistObj+")") {
		t.Errorf("unknown map: exit %d, output %q", code, out)
	}
}
