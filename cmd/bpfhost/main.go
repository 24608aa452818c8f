// Command bpfhost loads, checks and runs eBPF programs in user space.
//
// Its grammar follows bpftool: "bpfhost OBJECT-KIND VERB [ARGS]". Output is a
// table for people, or one JSON document with --json. Every command exits
// with 0 when it did what was asked, 1 when the program or the verdict
// failed (a program rejected or faulting, a conformance test failing) and 2
// for bad input or usage. Errors go to stderr as text; with --json, stdout
// also gets them as {"error": "..."} unless the document already says so.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/bpfhost/bpfhost"
)

// Exit statuses, the same for every command.
const (
	exitOK     = 0
	exitFailed = 1 // the program or the verdict failed
	exitUsage  = 2 // bad input or usage
)

func main() {
	os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr))
}

// execute runs the command line args and returns the exit status.
func execute(args []string, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if err.Error() == "" {
		// A status passed on (exec's command), with nothing to say.
		return exitCode(err)
	}
	fmt.Fprintln(stderr, "bpfhost:", err)
	reported := errors.As(err, &ee) && ee.reported
	if wantsJSON(root, args) && !reported {
		json.NewEncoder(stdout).Encode(map[string]string{"error": err.Error()})
	}
	return exitCode(err)
}

// wantsJSON reports whether --json was given, also when the command line
// failed to parse.
func wantsJSON(root *cobra.Command, args []string) bool {
	if cmd, _, err := root.Find(args); err == nil {
		if v, err := cmd.Flags().GetBool("json"); err == nil && v {
			return true
		}
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "--json" || a == "--json=true" || a == "--json=1" {
			return true
		}
	}
	return false
}

// exitError carries a specific exit status. reported says the command's
// output (its JSON document) already tells of the failure.
type exitError struct {
	code     int
	err      error
	reported bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// failed marks err as the program's or the verdict's failure (exit 1).
func failed(err error) error { return &exitError{code: exitFailed, err: err} }

// badInput marks err as bad input or usage (exit 2).
func badInput(err error) error { return &exitError{code: exitUsage, err: err} }

// exitCode is the status for err: the one it carries, 1 for a program the
// verifier rejected, 2 otherwise (bad input, usage, unreadable files).
func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if isVerdict(err) {
		return exitFailed
	}
	return exitUsage
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "bpfhost",
		Short: "Run eBPF programs in user space, without a kernel",
		Long: `Run eBPF programs in user space, without a kernel.

Exit status, for every command: 0 done, 1 the program or the verdict failed
(rejected by the verifier, faulted while running, a conformance test failed),
2 bad input or usage. With --json, an error is also printed on stdout as
{"error": "..."}.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().Bool("json", false, "print one JSON document instead of a table")
	root.AddCommand(newAttachCommand())
	root.AddCommand(newAsmCommand(), newConformanceCommand(), newObjectCommand(), newDisasmCommand(), newRunCommand(), newVerifyCommand(), newVersionCommand(), newExecCommand())
	return root
}

// isVerdict reports whether err is the verifier's rejection of a program.
func isVerdict(err error) bool {
	var ve *bpfhost.VerifierError
	return errors.As(err, &ve)
}
