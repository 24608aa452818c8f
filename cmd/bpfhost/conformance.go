package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/internal/conformance"
	"github.com/bpfhost/bpfhost/isa"
)

func newConformanceCommand() *cobra.Command {
	var engine bpfhost.Engine
	cmd := &cobra.Command{
		Use:   "conformance [DIR]",
		Short: "Run the bpf_conformance suite's fixtures (DIR holds fixtures.jsonl; default ../shared/conformance)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := ""
			if len(args) == 1 {
				dir = args[0]
			} else {
				d, err := conformance.Dir()
				if err != nil {
					return err
				}
				dir = d
			}
			if err := engine.Available(); err != nil {
				return err
			}
			fixtures, err := conformance.LoadFixtures(dir)
			if err != nil {
				return err
			}
			type result struct {
				Name  string `json:"name"`
				Pass  bool   `json:"pass"`
				Error string `json:"error,omitempty"`
			}
			var results []result
			failed := 0
			for _, f := range fixtures {
				res := result{Name: f.Name}
				if err := runFixture(engine, f); err != nil {
					res.Error = err.Error()
					failed++
				} else {
					res.Pass = true
				}
				results = append(results, res)
			}
			out := cmd.OutOrStdout()
			asJSON, _ := cmd.Flags().GetBool("json")
			if asJSON {
				if err := json.NewEncoder(out).Encode(map[string]any{"engine": engine, "passed": len(fixtures) - failed, "failed": failed, "tests": results}); err != nil {
					return err
				}
			} else {
				for _, r := range results {
					if !r.Pass {
						fmt.Fprintf(out, "FAIL  %-40s %s\n", r.Name, r.Error)
					}
				}
				fmt.Fprintf(out, "%s: %d passed, %d failed\n", engine, len(fixtures)-failed, failed)
			}
			if failed > 0 {
				return &exitError{code: exitFailed, reported: asJSON, err: fmt.Errorf("%s of %d failed", plural(failed, "conformance test"), len(fixtures))}
			}
			return nil
		},
	}
	engineFlag(cmd.Flags(), &engine, bpfhost.EngineInterp, "")
	return cmd
}

func runFixture(engine bpfhost.Engine, f conformance.Fixture) error {
	code, err := f.Program()
	if err != nil {
		return err
	}
	mem, err := f.Mem()
	if err != nil {
		return err
	}
	want, err := f.Result()
	if err != nil {
		return err
	}
	prog, err := isa.Decode(code)
	if err != nil {
		return err
	}
	raw, err := bpfhost.NewRawProgram(prog, &bpfhost.RawOptions{Engine: engine, Helpers: conformance.Helpers})
	if err != nil {
		return err
	}
	defer raw.Close()
	res, err := raw.Run(mem, 1<<30)
	if err != nil {
		return err
	}
	if res.R0 != want {
		return fmt.Errorf("r0 = %#x, want %#x", res.R0, want)
	}
	return nil
}
