package main

// "bpfhost map peek|push|pop|enqueue|dequeue": queues and stacks in the
// daemon, in bpftool's grammar.

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/remote"
)

// queueCommands are the map subcommands of queues and stacks; run wraps
// each as the other map subcommands.
func queueCommands(run func(fn func(*cobra.Command, *toolFlags, *remote.Client, api.Ref, api.MapInfo, []string) error) func(*cobra.Command, []string) error) []*cobra.Command {
	return []*cobra.Command{
		{Use: "peek MAP", Short: "Print the next value of a queue or stack", RunE: run(mapPeek)},
		{Use: "push MAP value VALUE [any|exist|noexist]", Short: "Push a value onto a queue or stack", RunE: run(mapPush)},
		{Use: "enqueue MAP value VALUE [any|exist|noexist]", Short: "Add a value to a queue (as push)", RunE: run(mapPush)},
		{Use: "pop MAP", Short: "Remove and print the next value of a queue or stack", RunE: run(mapPop)},
		{Use: "dequeue MAP", Short: "Remove and print the front value of a queue (as pop)", RunE: run(mapPop)},
	}
}

func mapPeek(cmd *cobra.Command, f *toolFlags, c *remote.Client, r api.Ref, info api.MapInfo, args []string) error {
	if err := noMoreArgs(args); err != nil {
		return err
	}
	v, err := c.Peek(context.Background(), r)
	if err != nil {
		return err
	}
	return printQueueValue(cmd, f, v)
}

func mapPop(cmd *cobra.Command, f *toolFlags, c *remote.Client, r api.Ref, info api.MapInfo, args []string) error {
	if err := noMoreArgs(args); err != nil {
		return err
	}
	v, err := c.Pop(context.Background(), r)
	if err != nil {
		return err
	}
	return printQueueValue(cmd, f, v)
}

// printQueueValue prints a value as bpftool's peek and pop do.
func printQueueValue(cmd *cobra.Command, f *toolFlags, v []byte) error {
	if f.asJSON() {
		// bpftool prints the empty key of a queue or stack too.
		return f.emit(cmd.OutOrStdout(), map[string]any{"key": []string{}, "value": hexJSON(v)})
	}
	_, err := fmt.Fprintf(cmd.OutOrStdout(), "value: %s\n", hexText(v))
	return err
}

func mapPush(cmd *cobra.Command, f *toolFlags, c *remote.Client, r api.Ref, info api.MapInfo, args []string) error {
	if len(args) == 0 || args[0] != "value" {
		return badInput(errors.New("expected value VALUE"))
	}
	value, rest, err := parseBytes("value", args[1:], int(info.BytesValue))
	if err != nil {
		return err
	}
	// As bpftool, which pushes with its update: UPDATE_FLAGS may follow,
	// and exist on a full queue or stack replaces its oldest value.
	flags, rest, err := updateFlags(rest)
	if err != nil {
		return err
	}
	if err := noMoreArgs(rest); err != nil {
		return err
	}
	if err := c.Push(context.Background(), r, value, flags); err != nil {
		return err
	}
	return printNull(f, cmd.OutOrStdout())
}
