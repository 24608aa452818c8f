package main

// "bpfhost daemon": the host that owns programs, maps and pins (package
// daemon), serving its control API on a Unix socket.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/bpfhost/bpfhost/daemon"
	"github.com/bpfhost/bpfhost/remote"
)

// verifyChildCommand is the hidden subcommand the daemon runs its verifier
// in.
const verifyChildCommand = "verify-child"

func newDaemonCommand() *cobra.Command {
	var (
		state, socket, group string
		metricsAddr          string
		kernelBTF, kconfig   string
		noJIT, inProcess     bool
		noSync               bool
		maxInsns             int
		mapMemory            int64
		verifyWall           time.Duration
		shutdownWait         time.Duration
	)
	cmd := &cobra.Command{
		Use:   "daemon [--state DIR] [--socket PATH] [--metrics ADDR] [--group NAME] [--no-jit]",
		Short: "Run the host that owns programs, maps and pins (in the foreground)",
		Long: `Run the bpfhost daemon in the foreground: it owns loaded programs and maps,
pins them in a namespace of absolute paths, and keeps every pinned object in
the state directory, so that after a restart (also after SIGKILL) they are
back with every map update a client was told succeeded. "bpfhost prog" and
"bpfhost map" manage it in bpftool's grammar.

Clients connect to the Unix socket; root and the members of --group are
admitted, everyone else is refused. The verifier runs in a child process
with limits on CPU time, memory and wall time.

SIGINT or SIGTERM stop it gracefully, with exit status 0: no new calls are
accepted, calls in flight get --shutdown-timeout to finish (then they are
canceled and their clients get an error: nothing they did was
acknowledged), XDP links stop running, and every pin, map update and link
is back at the next start.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			opts := daemon.Options{StateDir: state, MaxInstructions: maxInsns, MapMemory: mapMemory, Logger: log, NoSync: noSync,
				KernelBTF: kernelBTF, KernelConfig: kconfig}
			if noJIT {
				opts.Engine = "interp"
			}
			if !inProcess {
				exe, err := os.Executable()
				if err != nil {
					return fmt.Errorf("finding the bpfhost binary for the verifier child: %w", err)
				}
				limits := daemon.DefaultChildLimits
				if verifyWall > 0 {
					limits.Wall = verifyWall
				}
				opts.Verify = daemon.ChildVerifier([]string{exe, verifyChildCommand}, limits)
			}
			auth, err := daemon.GroupAuthorizer(group)
			if err != nil {
				return badInput(err)
			}
			return runDaemon(log, opts, socket, group, metricsAddr, auth, shutdownWait)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&state, "state", "/var/lib/bpfhost", "the state directory, which keeps pinned objects")
	fl.StringVar(&socket, "socket", "", "the control socket (default $"+remote.SocketEnv+" or "+remote.DefaultSocket+")")
	fl.StringVar(&group, "group", "", "admit the members of this group besides root")
	fl.StringVar(&metricsAddr, "metrics", "", "serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9469)")
	fl.BoolVar(&noJIT, "no-jit", false, "interpret programs only, never compile them to machine code")
	fl.IntVar(&maxInsns, "max-insns", daemon.DefaultMaxInstructions, "refuse programs with more instruction slots")
	fl.Int64Var(&mapMemory, "map-memory", 1<<30, "the most bytes all maps together may preallocate")
	fl.BoolVar(&inProcess, "verify-in-process", false, "run the verifier in the daemon's process (no isolation)")
	fl.BoolVar(&noSync, "no-sync", false, "acknowledge map writes once in the page cache, without msync/fsync: they survive a killed daemon, not a machine crash")
	kernelBTFFlag(fl, &kernelBTF)
	kernelConfigFlag(fl, &kconfig)
	fl.DurationVar(&verifyWall, "verify-timeout", 0, "wall time the verifier child gets per load (default 90s)")
	fl.DurationVar(&shutdownWait, "shutdown-timeout", 10*time.Second, "on SIGTERM or SIGINT, how long calls in flight may take before they are canceled")
	return cmd
}

// runDaemon listens, serves until a signal, and shuts down.
func runDaemon(log *slog.Logger, opts daemon.Options, socket, group, metricsAddr string, auth daemon.Authorizer, shutdownWait time.Duration) error {
	socket = remote.Socket(socket)
	d, err := daemon.New(opts)
	if err != nil {
		return err
	}
	defer func() {
		// Everything acknowledged is in the state directory already;
		// closing releases the maps and stops the links.
		if err := d.Close(); err != nil {
			log.Error("closing", "err", err)
		}
	}()
	l, err := listenSocket(socket, group)
	if err != nil {
		return err
	}
	srv := daemon.NewServer(d, auth)
	if metricsAddr != "" {
		ml, err := net.Listen("tcp", metricsAddr)
		if err != nil {
			l.Close()
			return fmt.Errorf("--metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", d.MetricsHandler())
		ms := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go ms.Serve(ml)
		defer ms.Close()
		log.Info("serving metrics", "addr", ml.Addr().String())
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	log.Info("serving", "socket", socket, "state", opts.StateDir, "engine", d.Engine(), "pid", os.Getpid())
	select {
	case err := <-done:
		return err
	case sig := <-sigs:
		log.Info("stopping", "signal", sig.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	err = srv.Shutdown(ctx)
	os.Remove(socket)
	if errors.Is(err, context.DeadlineExceeded) {
		// Calls still running were canceled (their connections closed):
		// their clients were told nothing succeeded. The stop is still
		// the graceful one a service manager asked for.
		log.Warn("calls in flight canceled", "after", shutdownWait)
		err = nil
	}
	if err == nil {
		log.Info("stopped")
	}
	return err
}

// listenSocket listens on a Unix socket at path, replacing a stale socket
// file that no daemon answers on, and lets group (if any) connect.
func listenSocket(path, group string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(path); err == nil {
		// Only a socket is replaced: --socket naming a file by mistake
		// (or on purpose) must not delete it.
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("socket %s: exists and is not a socket (%s); remove it or choose another path", path, fi.Mode().Type())
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("socket %s: another daemon is serving on it", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("socket %s: removing the stale socket: %w", path, err)
		}
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	mode := os.FileMode(0o600)
	if group != "" {
		mode = 0o660
		g, err := user.LookupGroup(group)
		if err != nil {
			l.Close()
			return nil, err
		}
		gid, _ := strconv.Atoi(g.Gid)
		if err := os.Chown(path, -1, gid); err != nil && !errors.Is(err, errors.ErrUnsupported) {
			l.Close()
			return nil, fmt.Errorf("socket %s: %w", path, err)
		}
	}
	if err := os.Chmod(path, mode); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// newVerifyChildCommand is the verifier child the daemon starts; it is not
// for people.
func newVerifyChildCommand() *cobra.Command {
	return &cobra.Command{
		Use:    verifyChildCommand,
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			os.Exit(daemon.VerifyChildMain(os.Stdin, os.Stdout))
			return nil
		},
	}
}
