package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A command that cannot run exits as a shell reports it: 127 when it is
// not found, 126 when it is found but is not executable or a directory.
func TestExecCommandCannotRun(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho ran\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	attach := []string{"cgroup/connect4=" + sockObj + ":deny_port"}
	for _, tc := range []struct {
		command string
		code    int
		message string
	}{
		{"bpfhost-no-such-command", 127, "not found"},
		{filepath.Join(dir, "missing"), 127, "no such file"},
		{script, 126, "permission denied"},
		{dir, 126, "is a directory"},
	} {
		out, code, _ := bpfhostExec(t, attach, tc.command)
		if code != tc.code || !strings.Contains(out, tc.message) || strings.Contains(out, "ran") {
			t.Errorf("%s: exit %d, output %q; want %d and %q", tc.command, code, out, tc.code, tc.message)
		}
	}
}

// A report that cannot be written fails before the command runs, not
// after it (when its exit status would be lost).
func TestExecReportCheckedFirst(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	cmd := exec.Command(bpfhostBinary(t), "exec", "--report", filepath.Join(dir, "no", "such", "dir", "r.json"),
		"--attach", "cgroup/connect4="+sockObj+":deny_port", "--", "touch", marker)
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "r.json") {
		t.Errorf("bpfhost exec: %v, output %q; want exit 2 naming the report", err, out)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("the command ran although the report cannot be written")
	}
}

// The report's maps are as run's JSON: the all-zero entries of the counts
// array are counted in maps_omitted, not lost.
func TestExecReportOmitted(t *testing.T) {
	_, code, rep := bpfhostExec(t, []string{"cgroup/connect4=" + sockObj + ":deny_port"}, "true")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if len(rep.Maps["counts"]) != 0 || rep.MapsOmitted["counts"].Zero != 4 {
		t.Errorf("counts %v, omitted %+v; want none shown and 4 zero entries counted", rep.Maps["counts"], rep.MapsOmitted["counts"])
	}
}

// Signals sent to bpfhost (not from its terminal) reach the command, which
// they end: SIGINT and SIGUSR1 were ignored before. bpfhost runs in a
// session of its own, so it has no terminal whose Ctrl-C the command would
// get directly.
func TestExecForwardsSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGUSR1} {
		dir := t.TempDir()
		cmd := exec.Command(bpfhostBinary(t), "exec", "--attach", "cgroup/connect4="+sockObj+":deny_port", "--",
			"sh", "-c", "echo started; exec sleep 60")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		out, err := os.Create(filepath.Join(dir, "out"))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout = out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The command prints before it sleeps: it runs (under the
		// supervisor, which started it) when its line is there.
		for deadline := time.Now().Add(settle); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if b, _ := os.ReadFile(out.Name()); len(b) > 0 {
				break
			}
		}
		cmd.Process.Signal(sig)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 128+int(sig) {
				t.Errorf("%v: bpfhost exec: %v, want exit %d (the command's)", sig, err, 128+int(sig))
			}
		case <-time.After(30 * time.Second):
			// The command sleeps 60 s: it did not get the signal.
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			t.Errorf("%v: the command did not get the signal", sig)
		}
		out.Close()
	}
}

// The command reads bpfhost's standard input and writes to its standard
// output and error, each its own.
func TestExecStdio(t *testing.T) {
	cmd := exec.Command(bpfhostBinary(t), "exec", "--attach", "cgroup/connect4="+sockObj+":deny_port", "--",
		"sh", "-c", "read line; echo \"out $line\"; echo \"err $line\" >&2")
	cmd.Stdin = strings.NewReader("piped\n")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bpfhost exec: %v (stderr %q)", err, stderr.String())
	}
	if stdout.String() != "out piped\n" || stderr.String() != "err piped\n" {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
}
