package sockaddr

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost"
)

func loadTestObject(t *testing.T) *bpfhost.Collection {
	t.Helper()
	spec, err := bpfhost.LoadCollectionSpec("testdata/sockaddr.o")
	if err != nil {
		t.Fatal(err)
	}
	coll, err := bpfhost.NewCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { coll.Close() })
	return coll
}

func TestAttachChecks(t *testing.T) {
	coll := loadTestObject(t)
	for _, tc := range []struct {
		a    Attach
		want string
	}{
		{Attach{Type: "cgroup/bind4", Program: coll.Programs["deny_port"]}, `program "deny_port" is cgroup_sock_addr/connect4, want a program of attach type cgroup_inet4_bind`},
		{Attach{Type: "cgroup/connect5", Program: coll.Programs["deny_port"]}, `attach type "cgroup/connect5": want one of`},
		{Attach{Type: "cgroup/connect4"}, "no program"},
	} {
		_, err := Start(exec.Command("true"), []Attach{tc.a}, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.a, err, tc.want)
		}
	}
	cmd := exec.Command("true")
	cmd.ExtraFiles = []*os.File{os.Stdin}
	if _, err := Start(cmd, nil, nil); err == nil {
		t.Error("ExtraFiles accepted")
	}
}

// The Go API supervises a command started from a Go program: a Python
// client's connect to the denied port fails with EPERM; the exit status and
// the counts come back.
func TestStartDeny(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	coll := loadTestObject(t)
	cmd := exec.Command("python3", "-c", `
import socket, sys
s = socket.socket()
try:
    s.connect(("127.0.0.1", 9))
except OSError as e:
    print(e.errno)
    sys.exit(3)
`)
	var out strings.Builder
	cmd.Stdout = &out
	link, err := Start(cmd, []Attach{{Type: "cgroup/connect4", Program: coll.Programs["deny_port"]}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = link.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || out.String() != "1\n" {
		t.Fatalf("wait %v, output %q; want exit 3 after errno 1 (EPERM)", err, out.String())
	}
	if s := link.Stats(); len(s) != 1 || s[0] != (ProgramStats{Name: "deny_port", AttachType: "cgroup/connect4", Runs: 1, Denied: 1}) {
		t.Errorf("stats %+v", s)
	}
}

// A command that does not exist fails in the shim with status 127.
func TestStartMissingCommand(t *testing.T) {
	coll := loadTestObject(t)
	cmd := &exec.Cmd{Path: "/nonexistent/command", Args: []string{"x"}}
	link, err := Start(cmd, []Attach{{Type: "cgroup/connect4", Program: coll.Programs["deny_port"]}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ee *exec.ExitError
	if err := link.Wait(); !errors.As(err, &ee) || ee.ExitCode() != 127 {
		t.Errorf("wait: %v, want exit 127", err)
	}
}
