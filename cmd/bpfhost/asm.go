package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/internal/conformance"
	"github.com/bpfhost/bpfhost/isa"
)

func newAsmCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "asm",
		Short: "Assemble, disassemble and run programs in the conformance suite's text dialect",
	}
	cmd.AddCommand(newAsmRunCommand(), newAsmDisasmCommand())
	return cmd
}

// asmFile is an assembly file read for asm run and asm disasm: plain
// assembly, or a conformance suite test (.data: "-- asm" or "-- raw", with
// "-- mem" and the expected "-- result" or "-- error").
type asmFile struct {
	prog []isa.Instruction
	mem  []byte // the test's input memory, nil when none
	// want is the expected r0 when hasWant; wantErr the expected failure.
	want    uint64
	hasWant bool
	wantErr string
	// loadErr is why the program could not be read, for a test that
	// expects that.
	loadErr error
}

// expectedError prints the failure a negative test expects, if it failed
// so, and reports whether it did.
func (f *asmFile) expectedError(cmd *cobra.Command) bool {
	if f.loadErr == nil {
		return false
	}
	if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
		json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]string{"expected_error": f.loadErr.Error()})
	} else {
		fmt.Fprintf(cmd.OutOrStdout(), "error (expected by the test): %v\n", f.loadErr)
	}
	return true
}

func readProgram(path string) (*asmFile, error) {
	text, err := readFileLimit(path, inputFileLimit)
	if err != nil {
		return nil, err
	}
	f := &asmFile{}
	src := string(text)
	var raw []byte
	if isConformanceCase(src) {
		c, err := conformance.ParseCase(filepath.Base(path), src)
		if err != nil {
			return nil, badInput(err)
		}
		src, raw, f.mem = c.Asm, c.Raw, c.Mem
		f.want, f.hasWant, f.wantErr = c.Result, c.HasResult, c.Error
	}
	if raw != nil {
		f.prog, err = isa.Decode(raw)
	} else {
		f.prog, err = isa.Assemble(src)
	}
	if err == nil {
		err = isa.Validate(f.prog)
	}
	if err != nil {
		if f.wantErr != "" {
			f.loadErr = fmt.Errorf("%s: %w", path, err) // the failure a negative test expects
			return f, nil
		}
		return nil, badInput(fmt.Errorf("%s: %w", path, err))
	}
	return f, nil
}

// isConformanceCase reports whether text is a conformance suite test: it
// has "-- NAME" section lines.
func isConformanceCase(text string) bool {
	for _, line := range strings.Split(text, "\n") {
		switch strings.TrimSpace(line) {
		case "-- asm", "-- raw":
			return true
		}
	}
	return false
}

func newAsmDisasmCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "disasm FILE",
		Short: "Print an assembly file's instructions with their slot numbers and encodings",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := readProgram(args[0])
			if err != nil {
				return err
			}
			if f.expectedError(cmd) {
				return nil
			}
			prog := f.prog
			out := cmd.OutOrStdout()
			for pc := 0; pc < len(prog); pc++ {
				ins := prog[pc]
				enc := hex.EncodeToString(ins.AppendEncoded(nil))
				text := ins.Text()
				if ins.IsLoadImm64() {
					enc += " " + hex.EncodeToString(prog[pc+1].AppendEncoded(nil))
					text = strings.TrimSuffix(isa.Disassemble(prog[pc:pc+2]), "\n")
				}
				fmt.Fprintf(out, "%5d: %-33s %s\n", pc, enc, text)
				if ins.IsLoadImm64() {
					pc++
				}
			}
			return nil
		},
	}
}

func newAsmRunCommand() *cobra.Command {
	var memHex string
	var engine bpfhost.Engine
	var checked bool
	var budget uint64
	var repeat int
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Assemble a program and run it; r1 points at --mem, r2 holds its length",
		Long: `Assemble a program and run it; r1 points at --mem, r2 holds its length.

FILE is assembly in the conformance suite's dialect, or one of the suite's
.data tests: its "-- asm" (or "-- raw") program runs on its "-- mem" (unless
--mem is given), and the exit status is 1 when r0 differs from its
"-- result" or when a test that expects an error ("-- error") runs.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := readProgram(args[0])
			if err != nil {
				return err
			}
			if f.expectedError(cmd) {
				return nil
			}
			prog := f.prog
			mem, err := hex.DecodeString(strings.Join(strings.Fields(memHex), ""))
			if err != nil {
				return badInput(fmt.Errorf("--mem: %w", err))
			}
			if memHex == "" && f.mem != nil {
				mem = f.mem
			}
			if err := engine.Available(); err != nil {
				return badInput(err)
			}
			raw, err := bpfhost.NewRawProgram(prog, &bpfhost.RawOptions{Engine: engine, Trusted: !checked})
			if err != nil {
				return failed(err)
			}
			defer raw.Close()
			if repeat < 1 {
				repeat = 1
			}
			orig := append([]byte(nil), mem...)
			var res bpfhost.RawResult
			start := time.Now()
			for i := 0; i < repeat; i++ {
				copy(mem, orig)
				if res, err = raw.Run(mem, budget); err != nil {
					if f.wantErr != "" {
						fmt.Fprintf(cmd.OutOrStdout(), "error (expected by the test): %v\n", err)
						return nil
					}
					return failed(err)
				}
			}
			perRun := time.Since(start) / time.Duration(repeat)
			r0 := res.R0
			var mismatch error
			switch {
			case f.hasWant && r0 != f.want:
				mismatch = fmt.Errorf("r0 = %#x, the test expects %#x", r0, f.want)
			case f.wantErr != "":
				mismatch = fmt.Errorf("the program ran, the test expects an error (%s)", f.wantErr)
			}
			asJSON, _ := cmd.Flags().GetBool("json")
			if mismatch != nil {
				mismatch = &exitError{code: exitFailed, err: mismatch, reported: asJSON}
			}
			if asJSON {
				doc := map[string]any{
					"r0": r0, "mode": raw.Mode(), "instructions": res.Executed,
					"duration_ns": perRun.Nanoseconds(), "mem_out": hex.EncodeToString(mem),
				}
				if f.hasWant {
					doc["expected"] = f.want
				}
				if mismatch != nil {
					doc["error"] = mismatch.Error()
				}
				if err := json.NewEncoder(cmd.OutOrStdout()).Encode(doc); err != nil {
					return err
				}
				return mismatch
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "r0            %#x (%d)\n", r0, int64(r0))
			fmt.Fprintf(out, "instructions  %d\n", res.Executed)
			fmt.Fprintf(out, "duration      %v per run (%s mode, %s)\n", perRun, raw.Mode(), plural(repeat, "run"))
			if len(mem) > 0 {
				fmt.Fprintf(out, "mem out       %s\n", hex.EncodeToString(mem))
			}
			if f.hasWant && mismatch == nil {
				fmt.Fprintf(out, "expected      %#x (as the test says)\n", f.want)
			}
			return mismatch
		},
	}
	cmd.Flags().StringVar(&memHex, "mem", "", "input memory as hex bytes")
	engineFlag(cmd.Flags(), &engine, bpfhost.EngineInterp, "")
	cmd.Flags().BoolVar(&checked, "checked", true, "validate every memory access (the program is not verified)")
	cmd.Flags().Uint64Var(&budget, "budget", 1<<30, "most instructions one run may execute")
	cmd.Flags().IntVar(&repeat, "repeat", 1, "run this many times and report the average duration")
	return cmd
}
