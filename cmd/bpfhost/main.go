// Command bpfhost loads, checks and runs eBPF programs in user space.
//
// Its grammar follows bpftool: "bpfhost OBJECT-KIND VERB [ARGS]". Output is a
// table for people, or one JSON document with --json; errors go to stderr
// with a non-zero exit status.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRoot().Execute(); err != nil {
		if err.Error() != "" {
			fmt.Fprintln(os.Stderr, "bpfhost:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitError carries a specific exit status.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	if e, ok := err.(*exitError); ok {
		return e.code
	}
	return 1
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "bpfhost",
		Short:         "Run eBPF programs in user space, without a kernel",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().Bool("json", false, "print one JSON document instead of a table")
	root.AddCommand(newAsmCommand(), newConformanceCommand(), newObjectCommand(), newDisasmCommand(), newRunCommand(), newVerifyCommand(), newExecCommand())
	return root
}
