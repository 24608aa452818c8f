package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var deployContainer = flag.Bool("deploy.container", false, "build and run the daemon's container image with podman (TestDeployContainer)")

// TestDeployContainer builds the daemon's image (deploy/Dockerfile.prebuilt,
// the final stage of deploy/Dockerfile) with podman and runs it as the
// DaemonSet does: every capability dropped but CHOWN, a read-only root,
// no_new_privs, the socket and the state directory mounted from the host.
// The host's CLI loads the counter through the socket (the verifier child
// runs in the container), runs and updates it; the container is killed with
// SIGKILL and started again, and the map is as it was. It runs with
// -deploy.container and podman (with runc if installed: crun refuses this
// development machine's hybrid cgroups):
//
//	go test ./cmd/bpfhost -run TestDeployContainer -deploy.container
func TestDeployContainer(t *testing.T) {
	if !*deployContainer {
		t.Skip("builds and runs a container image: -deploy.container")
	}
	podman, err := exec.LookPath("podman")
	if err != nil {
		t.Skip("no podman")
	}
	for _, line := range []string{"ENTRYPOINT", "CMD"} {
		if a, b := dockerfileLine(t, "../../deploy/Dockerfile", line), dockerfileLine(t, "../../deploy/Dockerfile.prebuilt", line); a != b {
			t.Fatalf("%s differs: Dockerfile %q, Dockerfile.prebuilt %q", line, a, b)
		}
	}
	ctx := t.TempDir()
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s", "-o", filepath.Join(ctx, "bpfhost"), ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	bin := filepath.Join(ctx, "bpfhost")
	image := fmt.Sprintf("localhost/bpfhost-test:%d", os.Getpid())
	name := fmt.Sprintf("bpfhost-test-%d", os.Getpid())
	pod := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(podman, append(podmanGlobal(), args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	pod("build", "-f", "../../deploy/Dockerfile.prebuilt", "-t", image, ctx)
	t.Cleanup(func() { exec.Command(podman, append(podmanGlobal(), "rmi", "-f", image)...).Run() })

	host := t.TempDir()
	run, state := filepath.Join(host, "run"), filepath.Join(host, "state")
	os.Mkdir(run, 0o755)
	os.Mkdir(state, 0o700)
	args := []string{"run", "-d", "--name", name, "--network", "none",
		"--cap-drop", "ALL", "--cap-add", "CHOWN", "--read-only", "--security-opt", "no-new-privileges",
		"-v", run + ":/run/bpfhost", "-v", state + ":/var/lib/bpfhost"}
	args = append(append(args, podmanLimits()...), image)
	pod(args...)
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := exec.Command(podman, append(podmanGlobal(), "logs", name)...).CombinedOutput()
			t.Logf("daemon log:\n%s", out)
		}
		exec.Command(podman, append(podmanGlobal(), "rm", "-f", name)...).Run()
	})
	sock := filepath.Join(run, "bpfhost.sock")
	cli := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		var err error
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			out.Reset()
			c := exec.Command(bin, args...)
			c.Env = append(os.Environ(), "BPFHOST_SOCKET="+sock)
			c.Stdout, c.Stderr = &out, &out
			// A (re)started container may not listen yet: no socket,
			// or the dead daemon's.
			err = c.Run()
			starting := strings.Contains(out.String(), "no such file") || strings.Contains(out.String(), "connection refused")
			if err == nil || !starting || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			t.Fatalf("bpfhost %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}
	obj, _ := filepath.Abs(counterObj)
	cli("prog", "load", obj, "/c/counter", "pinmaps", "/c/maps")
	pkt := filepath.Join(host, "pkt")
	os.WriteFile(pkt, append([]byte{7}, make([]byte, 63)...), 0o644)
	cli("prog", "run", "pinned", "/c/counter", "data_in", pkt, "repeat", "3")
	cli("map", "update", "pinned", "/c/maps/counts", "key", "1", "0", "0", "0", "value", "5", "0", "0", "0", "0", "0", "0", "0")
	want := sortedDump(t, cli("-j", "map", "dump", "pinned", "/c/maps/counts"))
	if len(want) != 2 {
		t.Fatalf("dump before the kill: %v", want)
	}
	pod("kill", "-s", "KILL", name)
	pod("wait", name)
	pod("start", name)
	if got := sortedDump(t, cli("-j", "map", "dump", "pinned", "/c/maps/counts")); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after SIGKILL and a restart of the container:\n got %v\nwant %v", got, want)
	}
	if out := cli("-j", "prog", "show", "pinned", "/c/counter"); !strings.Contains(out, `"name":"count_packets"`) {
		t.Fatalf("program after the restart: %s", out)
	}
}

// dockerfileLine returns the instruction of a Dockerfile that starts with
// word (the last one).
func dockerfileLine(t *testing.T, path, word string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var found string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, word+" ") {
			found = l
		}
	}
	if found == "" {
		t.Fatalf("%s has no %s", path, word)
	}
	return found
}

// podmanGlobal are podman's global options: runc as the runtime where it is
// installed (crun refuses hybrid cgroup hierarchies, as this development
// machine has).
func podmanGlobal() []string {
	if runc, err := exec.LookPath("runc"); err == nil {
		return []string{"--runtime", runc}
	}
	return nil
}

// podmanLimits are --ulimit options within this process's hard limits:
// podman's defaults for root (2^20 files, 2^22 processes) are above them on
// a machine without CAP_SYS_RESOURCE, and the runtime cannot raise them.
func podmanLimits() []string {
	var files, procs unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &files) != nil || unix.Getrlimit(unix.RLIMIT_NPROC, &procs) != nil {
		return nil
	}
	nproc := min(procs.Max, 32768)
	return []string{"--ulimit", "nofile=" + strconv.FormatUint(files.Max, 10) + ":" + strconv.FormatUint(files.Max, 10),
		"--ulimit", "nproc=" + strconv.FormatUint(nproc, 10) + ":" + strconv.FormatUint(nproc, 10)}
}
