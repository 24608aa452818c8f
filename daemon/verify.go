package daemon

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/daemon/api"
)

// VerifyRequest is what the verifier child gets on its standard input.
type VerifyRequest struct {
	Object   []byte   `json:"object"`
	Type     string   `json:"type,omitempty"`
	Programs []string `json:"programs"`
	// KernelBTF and KernelConfig name the daemon's kernel BTF and
	// configuration files (Options), "" for the running kernel's: the
	// child verifies with the same kernel types and __kconfig values as
	// the daemon loads with.
	KernelBTF    string `json:"kernel_btf,omitempty"`
	KernelConfig string `json:"kernel_config,omitempty"`
	// Maps replaces the definitions of the object's maps of these names
	// (existing maps the load reuses, mapreuse.go): the programs are
	// verified against them.
	Maps map[string]*bpfhost.MapSpec `json:"maps,omitempty"`
}

// verifyVerdict is what the verifier child writes on its standard output.
type verifyVerdict struct {
	Rejected string `json:"rejected,omitempty"` // the verifier's message
	Invalid  string `json:"invalid,omitempty"`  // the object or request is bad
	Verdict
}

// Verdict is what a verifier (Options.Verify) hands the daemon for an
// object it accepted: the facts of every program it verified, so that the
// daemon loads the object without verifying it again (DESIGN.md decision
// 9: the host trusts the isolated verifier's verdict).
type Verdict struct {
	// Digest is RequestDigest of the request verified: the daemon uses
	// the verdict only for the request it sent.
	Digest []byte `json:"digest,omitempty"`
	// Programs holds the verdict on each program the load creates (the
	// requested programs and those their program arrays reach), for
	// bpfhost.CollectionOptions.Verified, which checks each against its
	// program's instructions and options (bpfhost.ProgramDigest).
	Programs map[string]*bpfhost.VerifiedProgram `json:"programs,omitempty"`
}

// RequestDigest returns the SHA-256 digest of what a verdict on req
// depends on: the object's bytes, the program type and the programs.
func RequestDigest(req VerifyRequest) []byte {
	h := sha256.New()
	field := func(b []byte) {
		h.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(b))))
		h.Write(b)
	}
	field([]byte("bpfhost verify request v1"))
	field(req.Object)
	field([]byte(req.Type))
	for _, p := range req.Programs {
		field([]byte(p))
	}
	if req.KernelBTF != "" || req.KernelConfig != "" {
		field([]byte("kernel"))
		field([]byte(req.KernelBTF))
		field([]byte(req.KernelConfig))
	}
	if len(req.Maps) > 0 {
		// encoding/json writes a map's keys sorted: one encoding.
		b, _ := json.Marshal(req.Maps)
		field([]byte("maps"))
		field(b)
	}
	return h.Sum(nil)
}

// ChildLimits bound the verifier child.
type ChildLimits struct {
	CPU    time.Duration // CPU time (RLIMIT_CPU), rounded up to seconds
	Memory uint64        // address space in bytes (RLIMIT_AS)
	Wall   time.Duration // wall time before the child is killed
	// Concurrent bounds the children that run at once; a load beyond it
	// waits for one to end (or for its client to go), and its Wall starts
	// when its child does. 0 means the number of CPUs. Without a bound,
	// clients' concurrent loads (up to the connection limits) would
	// multiply Memory by hundreds.
	Concurrent int
}

// DefaultChildLimits are generous for real programs: the verifier of a
// million-instruction program finishes well within them.
var DefaultChildLimits = ChildLimits{CPU: 60 * time.Second, Memory: 4 << 30, Wall: 90 * time.Second}

// FaultEnv names an environment variable for tests: when the daemon's
// environment sets it to "panic" or "hang", the verifier child fails that
// way, to show that the daemon survives it; "open" makes it try to open a
// file, which its seccomp filter refuses. The child reads it only when
// the daemon passes it on (its whole environment).
const FaultEnv = "BPFHOST_TEST_VERIFIER_FAULT"

// ChildVerifier returns a verify function (Options.Verify) that runs
// command (the bpfhost binary and its hidden verify-child subcommand) as a
// child process per load, under limits, and returns its verdict. A child
// that crashes, is killed or hangs rejects the load; the daemon is not
// affected.
func ChildVerifier(command []string, limits ChildLimits) func(ctx context.Context, req VerifyRequest) (*Verdict, error) {
	n := limits.Concurrent
	if n <= 0 {
		n = runtime.NumCPU()
	}
	running := make(chan struct{}, n)
	return func(ctx context.Context, req VerifyRequest) (*Verdict, error) {
		select {
		case running <- struct{}{}:
			defer func() { <-running }()
		case <-ctx.Done():
			return nil, errorf(api.CodeRejected, "verifier: the load ended while it waited for a verifier: %v", ctx.Err())
		}
		in, err := json.Marshal(req)
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(ctx, limits.Wall)
		defer cancel()
		cmd := exec.CommandContext(ctx, command[0], command[1:]...)
		cmd.Stdin = bytes.NewReader(in)
		var out, errOut bytes.Buffer
		cmd.Stdout = &limitedWriter{w: &out, n: maxVerdict}
		cmd.Stderr = &limitedWriter{w: &errOut, n: 4096}
		cmd.Env = append(os.Environ(), childLimitsEnv(limits)...)
		setChildAttrs(cmd)
		runErr := cmd.Run()
		if ctx.Err() == context.DeadlineExceeded {
			return nil, errorf(api.CodeRejected, "verifier: no verdict within %v: the load is rejected", limits.Wall)
		}
		if runErr != nil {
			msg := strings.TrimSpace(errOut.String())
			if i := strings.IndexByte(msg, '\n'); i >= 0 {
				msg = msg[:i]
			}
			return nil, errorf(api.CodeRejected, "verifier process failed (%v): the load is rejected: %s", runErr, msg)
		}
		var v verifyVerdict
		if err := json.Unmarshal(out.Bytes(), &v); err != nil {
			return nil, errorf(api.CodeRejected, "verifier process gave no verdict: the load is rejected")
		}
		return v.result()
	}
}

// InProcessVerifier is a verify function (Options.Verify) that verifies
// in the daemon's own process, as the child does: for tests, benchmarks
// and platforms without the child.
func InProcessVerifier(ctx context.Context, req VerifyRequest) (*Verdict, error) {
	v := verify(req)
	return v.result()
}

// result turns the child's answer into Options.Verify's.
func (v *verifyVerdict) result() (*Verdict, error) {
	switch {
	case v.Invalid != "":
		return nil, errorf(api.CodeInvalid, "%s", v.Invalid)
	case v.Rejected != "":
		return nil, errorf(api.CodeRejected, "%s", v.Rejected)
	}
	return &v.Verdict, nil
}

// limitedWriter keeps the first n bytes written to it.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// maxVerdict bounds the child's output that the daemon reads: the facts
// of a million-instruction program take a few MiB of JSON. A longer
// output is cut, fails to parse and rejects the load.
const maxVerdict = 64 << 20

// maxVerifyRequest bounds the child's input.
const maxVerifyRequest = 2*DefaultMaxObjectSize + 1<<20

// VerifyChildMain is the verifier child: it limits itself, reads a
// VerifyRequest from in, verifies the programs and writes the verdict to
// out. It returns the process's exit status.
func VerifyChildMain(in io.Reader, out io.Writer) int {
	// The request first, and what its programs need of the kernel (its
	// BTF, its configuration), read while files may still be opened: the
	// seccomp filter refuses open, and the daemon loads with both. Parsing
	// the object here is no new exposure: the daemon parsed it already.
	b, err := io.ReadAll(io.LimitReader(in, maxVerifyRequest))
	if err != nil {
		fmt.Fprintln(os.Stderr, "verifier child:", err)
		return 3
	}
	var req VerifyRequest
	if err := json.Unmarshal(b, &req); err != nil {
		fmt.Fprintln(os.Stderr, "verifier child: request:", err)
		return 3
	}
	spec, specErr := bpfhost.LoadCollectionSpecFromReader(bytes.NewReader(req.Object))
	if specErr == nil {
		bpfhost.PreloadKernel(spec, &bpfhost.CollectionOptions{ProgramType: req.Type, KernelBTF: req.KernelBTF, KernelConfig: req.KernelConfig})
	}
	if err := limitSelf(); err != nil {
		fmt.Fprintln(os.Stderr, "verifier child: limits:", err)
		return 3
	}
	switch os.Getenv(FaultEnv) {
	case "panic":
		panic("injected verifier fault")
	case "hang":
		for {
			time.Sleep(time.Hour)
		}
	case "open":
		// What a compromised verifier would try: the filter refuses it.
		f, err := os.Open("/proc/self/status")
		if err == nil {
			f.Close()
			fmt.Fprintln(os.Stderr, "verifier child: opened a file despite the seccomp filter")
			return 4
		}
		fmt.Fprintln(os.Stderr, "verifier child: open:", err)
		return 4
	}
	v := verifyParsed(req, spec, specErr)
	if err := json.NewEncoder(out).Encode(v); err != nil {
		return 3
	}
	return 0
}

// verify runs the verifier over the programs a load of req creates, as
// NewCollection would, and returns their facts.
func verify(req VerifyRequest) verifyVerdict {
	spec, err := bpfhost.LoadCollectionSpecFromReader(bytes.NewReader(req.Object))
	return verifyParsed(req, spec, err)
}

// verifyParsed is verify of the object's spec, parsed (or not: err).
func verifyParsed(req VerifyRequest, spec *bpfhost.CollectionSpec, err error) verifyVerdict {
	if err != nil {
		return verifyVerdict{Invalid: fmt.Sprintf("object: %v", err)}
	}
	for _, name := range req.Programs {
		if findProgram(spec, name) == nil {
			return verifyVerdict{Invalid: fmt.Sprintf("object has no program %q", name)}
		}
	}
	if spec, err = applyReuse(spec, req.Maps); err != nil {
		return verifyVerdict{Invalid: err.Error()}
	}
	progs, err := bpfhost.VerifyCollection(spec, &bpfhost.CollectionOptions{ProgramType: req.Type, Programs: req.Programs,
		KernelBTF: req.KernelBTF, KernelConfig: req.KernelConfig})
	if err != nil {
		var ve *bpfhost.VerifierError
		if errors.As(err, &ve) {
			return verifyVerdict{Rejected: err.Error()}
		}
		return verifyVerdict{Invalid: err.Error()}
	}
	return verifyVerdict{Verdict: Verdict{Digest: RequestDigest(req), Programs: progs}}
}
