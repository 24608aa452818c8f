package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bpfhost/bpfhost/internal/conformance"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

func newConformanceCommand() *cobra.Command {
	var engineName string
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
			engine, err := engineByName(engineName)
			if err != nil {
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
				if err := json.NewEncoder(out).Encode(map[string]any{"engine": engineName, "passed": len(fixtures) - failed, "failed": failed, "tests": results}); err != nil {
					return err
				}
			} else {
				for _, r := range results {
					if !r.Pass {
						fmt.Fprintf(out, "FAIL  %-40s %s\n", r.Name, r.Error)
					}
				}
				fmt.Fprintf(out, "%s: %d passed, %d failed\n", engineName, len(fixtures)-failed, failed)
			}
			if failed > 0 {
				return &exitError{code: exitFailed, reported: asJSON, err: fmt.Errorf("%s of %d failed", plural(failed, "conformance test"), len(fixtures))}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&engineName, "engine", "interp", "execution engine: interp or jit")
	return cmd
}

func runFixture(engine vm.Engine, f conformance.Fixture) error {
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
	identity := func(_ *vm.RunContext, r1, _, _, _, _ uint64) (uint64, error) { return r1, nil }
	exe, err := engine.Compile(&vm.Program{Instructions: prog, Helpers: vm.Helpers{5: identity}}, vm.CompileOptions{Mode: vm.Checked})
	if err != nil {
		return err
	}
	rc := &vm.RunContext{Budget: 1 << 30}
	if len(mem) > 0 {
		rc.Regions = []vm.Region{vm.RegionOf("memory", mem, true)}
		rc.Args[0], rc.Args[1] = uint64(rc.Regions[0].Start), uint64(len(mem))
	}
	got, err := exe.Run(rc)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("r0 = %#x, want %#x", got, want)
	}
	return nil
}
