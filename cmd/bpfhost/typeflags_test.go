package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const typesDir = "../../testdata/types/"

// verifyJSON runs verify --json and decodes its programs.
func verifyJSON(t *testing.T, args ...string) ([]verifyProgram, int, string) {
	t.Helper()
	out, code := cli(t, append([]string{"verify", "--json"}, args...)...)
	var res struct{ Programs []verifyProgram }
	if code != 2 {
		if err := json.NewDecoder(strings.NewReader(out)).Decode(&res); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	return res.Programs, code, out
}

// TestVerifyTypes checks where verify takes program types from and that
// it says so: libbpf's section rules, the older prefix rule, --type TYPE
// for the whole object, --type PROGRAM=TYPE for one.
func TestVerifyTypes(t *testing.T) {
	obj := typesDir + "sections.o"
	out, code := cli(t, "verify", obj)
	if code != 2 || !strings.Contains(out, `program "from_netdev"`) || !strings.Contains(out, "--type from_netdev=TYPE") {
		t.Errorf("untyped sections without --type: exit %d\n%s", code, out)
	}

	progs, code, out := verifyJSON(t, obj, "--type", "sched_cls", "--type", "xdp_ttl_prog=xdp")
	if code != 0 || len(progs) != 4 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, p := range progs {
		want := "sched_cls"
		if p.Name == "xdp_ttl_prog" {
			want = "xdp"
		}
		if p.Type != want || p.TypeSource != "option" || p.Verdict != "accepted" {
			t.Errorf("%s: %+v, want %s from option", p.Name, p, want)
		}
	}

	progs, code, out = verifyJSON(t, obj, "--type", "from_netdev=tc", "--type", "tail_three=sched_cls")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	sources := map[string]string{}
	for _, p := range progs {
		sources[p.Name] = p.Type + " " + p.TypeSource
	}
	want := map[string]string{"cls_main": "sched_cls section", "xdp_ttl_prog": "xdp section prefix",
		"from_netdev": "sched_cls option", "tail_three": "sched_cls option"}
	for name, w := range want {
		if sources[name] != w {
			t.Errorf("%s: %q, want %q", name, sources[name], w)
		}
	}
	if out, _ := cli(t, "verify", obj, "--type", "tail_three=tc", "--type", "from_netdev=tc"); !strings.Contains(out, "xdp [section prefix]") {
		t.Errorf("the table does not say the type came from the section prefix:\n%s", out)
	}

	for _, bad := range [][]string{
		{"--type", "nonsense"}, {"--type", "xdp", "--type", "tc"}, {"--type", "=xdp"}, {"--type", "nosuch=xdp"},
		{"--type", "cls_main=xdp", "--type", "cls_main=tc"},
	} {
		if out, code := cli(t, append([]string{"verify", obj}, bad...)...); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", bad, code, out)
		}
	}
}

// TestVerifyTextFunction checks that a function in .text is verified on
// its own with --type, and that an object with only such functions is an
// error that names them.
func TestVerifyTextFunction(t *testing.T) {
	obj := typesDir + "textonly.o"
	out, code := cli(t, "verify", obj)
	if code != 2 || !strings.Contains(out, "text_len") {
		t.Errorf("nothing but .text: exit %d\n%s", code, out)
	}
	if out, code := cli(t, "verify", obj, "--program", "text_len"); code != 2 || !strings.Contains(out, "--type") {
		t.Errorf(".text function without --type: exit %d\n%s", code, out)
	}
	progs, code, out := verifyJSON(t, obj, "--program", "text_len", "--type", "xdp")
	if code != 0 || len(progs) != 1 || progs[0].Type != "xdp" || progs[0].Section != ".text" || progs[0].Verdict != "accepted" {
		t.Errorf("exit %d: %+v\n%s", code, progs, out)
	}
	// The function verified as a socket filter reads through a number.
	if _, code, out := verifyJSON(t, obj, "--program", "text_len", "--type", "text_len=socket_filter"); code != 1 {
		t.Errorf("as socket_filter: exit %d\n%s", code, out)
	}

	data := filepath.Join(t.TempDir(), "pkt")
	if err := os.WriteFile(data, []byte(strings.Repeat("\xff", 64)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code = cli(t, "run", obj, "--program", "text_len", "--type", "xdp", "--data", data, "--json")
	var res runOutput
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res.Runs) != 1 || res.Runs[0].Retval != 1 || res.TypeSource != "option" {
		t.Errorf("run: exit %d: %+v\n%s", code, res, out)
	}
}

// TestObjectShowTypes checks that object show says which type each
// program gets, from where, and which programs have none.
func TestObjectShowTypes(t *testing.T) {
	out, code := cli(t, "object", "show", typesDir+"sections.o", "--json")
	var res struct {
		Programs []struct {
			Name, Type string
			Source     string `json:"type_source"`
		}
		Untyped       []string
		TextFunctions []string `json:"text_functions"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if strings.Join(res.Untyped, ",") != "from_netdev,tail_three" {
		t.Errorf("untyped: %v", res.Untyped)
	}
	for _, p := range res.Programs {
		if p.Name == "xdp_ttl_prog" && (p.Type != "xdp" || p.Source != "section prefix") {
			t.Errorf("%+v", p)
		}
	}
	out, code = cli(t, "object", "show", typesDir+"sections.o", "--type", "sched_cls")
	if code != 0 || strings.Contains(out, "no type:") || strings.Count(out, "option") != 4 {
		t.Errorf("--type sched_cls: exit %d\n%s", code, out)
	}
	out, code = cli(t, "object", "show", typesDir+"textonly.o")
	if code != 0 || !strings.Contains(out, "functions in .text: text_len") {
		t.Errorf("textonly.o: exit %d\n%s", code, out)
	}
}
