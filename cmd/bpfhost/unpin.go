package main

import (
	"context"

	"github.com/spf13/cobra"
)

// newUnpinCommand removes a pin from the daemon's namespace, as removing a
// file from a bpffs does (bpftool has no verb for it: people use rm).
func newUnpinCommand() *cobra.Command {
	var f toolFlags
	cmd := &cobra.Command{
		Use:   "unpin PATH",
		Short: "Remove a pin from the daemon; the object goes when nothing else holds it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.toolError(cmd, func() error {
				c, err := f.dial()
				if err != nil {
					return err
				}
				defer c.Close()
				if err := c.Unpin(context.Background(), pinPath(args[0])); err != nil {
					return err
				}
				return printNull(&f, cmd.OutOrStdout())
			}())
		},
	}
	addToolFlags(cmd, &f)
	return cmd
}
