package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bpfhost/bpfhost"
)

type verifyProgram struct {
	Name         string        `json:"name"`
	Section      string        `json:"section"`
	Type         string        `json:"type"`
	TypeSource   string        `json:"type_source"`
	Verdict      string        `json:"verdict"`
	Errors       []verifyError `json:"errors"`
	Instructions int           `json:"instructions"`
	DurationNS   int64         `json:"duration_ns"`
}

// verifyError is one finding as the JSON output spells it.
type verifyError struct {
	Insn    int    `json:"insn"`
	Source  string `json:"source"`
	Message string `json:"message"`
}

func newVerifyCommand() *cobra.Command {
	var program string
	var types []string
	var verbose bool
	var limits bpfhost.VerifierLimits
	var stateMiB int64
	var kernelBTF, kernelConfig string
	cmd := &cobra.Command{
		Use:   "verify OBJECT",
		Short: "Check an object's programs offline with bpfhost's verifier",
		Long: `Verify every program of OBJECT (or --program NAME) for its program type: the one --type
gives, else the one its section names by libbpf's rules, else by older libbpf's
prefix rule ("xdp_ttl" is xdp); the output says which. Sections named by their
loader ("classifier/ingress" for tc, "2/1", "tail-3") need --type: --type sched_cls
verifies a whole tc object, --type NAME=TYPE one program. --program may name a
function in .text, verified on its own with --type. Exit status: 0 when every
selected program is accepted, 1 when any is rejected, 2 when the input cannot be
read or a program has no type.

Programs of sections whose names begin with "?" (SEC("?tc"): libbpf does not
load them unless asked) are skipped, with a note on stderr (in --json also under
"not_autoloaded"); --program NAME verifies one of them, as its type after the "?".`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, _ := cmd.Flags().GetBool("json")
			limits.MaxStateBytes = stateMiB << 20
			return verifyObject(cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], program, types, verbose, asJSON, limits, bpfhost.VerifyOptions{KernelBTF: kernelBTF, KernelConfig: kernelConfig})
		},
	}
	cmd.Flags().StringVar(&program, "program", "", "only this program")
	addTypeFlag(cmd, &types)
	kernelBTFFlag(cmd.Flags(), &kernelBTF)
	kernelConfigFlag(cmd.Flags(), &kernelConfig)
	cmd.Flags().BoolVar(&verbose, "verbose", false, "print the abstract state before each instruction")
	cmd.Flags().IntVar(&limits.MaxInstructions, "max-insns", bpfhost.DefaultVerifierMaxInstructions, "most instructions the verifier may process per program (the complexity limit)")
	cmd.Flags().Int64Var(&stateMiB, "max-state-mem", bpfhost.DefaultVerifierMaxStateBytes>>20, "most MiB of abstract states the verifier may keep per program")
	cmd.Flags().DurationVar(&limits.Timeout, "verify-timeout", bpfhost.DefaultVerifierTimeout, "longest the verifier may take for all the object's programs (negative: no limit)")
	return cmd
}

// limitFlags names the flag that raises each verifier limit.
var limitFlags = map[string]string{
	"Limits.MaxInstructions": "--max-insns", "Limits.MaxStateBytes": "--max-state-mem", "Limits.Timeout": "--verify-timeout",
}

func verifyObject(out, errOut io.Writer, path, program string, types []string, verbose, asJSON bool, limits bpfhost.VerifierLimits, kernel bpfhost.VerifyOptions) error {
	topts, err := typeOptions(types)
	if err != nil {
		return err
	}
	spec, err := loadSpecFor(path, program, topts)
	if err != nil {
		return err
	}
	if err := bpfhost.CheckProgramTypes(spec, topts); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("--type: %w", err)}
	}
	if len(spec.Programs) == 0 {
		return noProgramsError(path)
	}
	if limits.Timeout > 0 {
		// The timeout bounds the object's programs together.
		limits.Deadline = time.Now().Add(limits.Timeout)
	}
	var results []verifyProgram
	var skipped []string
	rejected := 0
	for _, p := range spec.Programs {
		if program != "" && p.Name != program {
			continue
		}
		if program == "" && p.NoAutoload {
			skipped = append(skipped, p.Name)
			continue
		}
		info, source, err := bpfhost.ProgramType(p, topts)
		if err != nil {
			return typeAdvice(err)
		}
		opts := &bpfhost.VerifyOptions{Limits: limits, KernelBTF: kernel.KernelBTF, KernelConfig: kernel.KernelConfig}
		if verbose && !asJSON {
			opts.Log = out
		}
		start := time.Now()
		verr := bpfhost.VerifyProgram(spec, p, info, opts)
		res := verifyProgram{Name: p.Name, Section: elfSection(p), Type: info.Name, TypeSource: string(source), Verdict: "accepted",
			Errors: []verifyError{}, Instructions: len(p.Instructions), DurationNS: time.Since(start).Nanoseconds()}
		if verr != nil {
			var ve *bpfhost.VerifierError
			if !errors.As(verr, &ve) {
				return badInput(fmt.Errorf("program %q: %w", p.Name, verr))
			}
			res.Verdict = "rejected"
			for _, e := range ve.Errors {
				msg := e.Message
				if ve.Limit != nil && e.PC < 0 && limitFlags[ve.Limit.Option] != "" {
					// Name the flag that raises the limit, not the API field.
					msg = strings.Replace(msg, ve.Limit.Option, limitFlags[ve.Limit.Option], 1)
				}
				res.Errors = append(res.Errors, verifyError{Insn: e.PC, Source: e.Source, Message: msg})
			}
			rejected++
		}
		results = append(results, res)
	}
	if program != "" && len(results) == 0 {
		return badInput(fmt.Errorf("no program %q in %s", program, path))
	}
	if len(results) == 0 {
		return badInput(fmt.Errorf("%s: every program is in a \"?\" section, not loaded automatically (as libbpf): %s; name one with --program",
			path, strings.Join(skipped, ", ")))
	}
	noteSkipped(errOut, skipped)
	if asJSON {
		doc := map[string]any{"programs": results}
		if len(skipped) > 0 {
			doc["not_autoloaded"] = skipped
		}
		if err := json.NewEncoder(out).Encode(doc); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			fmt.Fprintf(out, "%-24s %-26s %-9s %5d insns  %v\n", r.Name, describeType(r.Type, bpfhost.TypeSource(r.TypeSource)), r.Verdict, r.Instructions, time.Duration(r.DurationNS))
			for _, e := range r.Errors {
				if e.Insn < 0 {
					fmt.Fprintf(out, "  %s\n", e.Message)
					continue
				}
				fmt.Fprintf(out, "  insn %d (%s): %s\n", e.Insn, e.Source, e.Message)
			}
		}
	}
	if rejected > 0 {
		return &exitError{code: exitFailed, reported: asJSON, err: fmt.Errorf("%d of %s rejected", rejected, plural(len(results), "program"))}
	}
	return nil
}
