package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

func newAsmCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "asm",
		Short: "Assemble, disassemble and run programs in the conformance suite's text dialect",
	}
	cmd.AddCommand(newAsmRunCommand(), newAsmDisasmCommand())
	return cmd
}

func readProgram(path string) ([]isa.Instruction, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	prog, err := isa.Assemble(string(text))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := isa.Validate(prog); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return prog, nil
}

func newAsmDisasmCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "disasm FILE",
		Short: "Print an assembly file's instructions with their slot numbers and encodings",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			prog, err := readProgram(args[0])
			if err != nil {
				return err
			}
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
	var engineName string
	var checked bool
	var budget uint64
	var repeat int
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Assemble a program and run it; r1 points at --mem, r2 holds its length",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			prog, err := readProgram(args[0])
			if err != nil {
				return err
			}
			mem, err := hex.DecodeString(strings.Join(strings.Fields(memHex), ""))
			if err != nil {
				return fmt.Errorf("--mem: %w", err)
			}
			engine, err := engineByName(engineName)
			if err != nil {
				return err
			}
			mode := vm.Trusted
			if checked {
				mode = vm.Checked
			}
			exe, err := engine.Compile(&vm.Program{Instructions: prog}, vm.CompileOptions{Mode: mode})
			if err != nil {
				return err
			}
			rc := &vm.RunContext{Budget: budget}
			if len(mem) > 0 {
				rc.Regions = []vm.Region{vm.RegionOf("memory", mem, true)}
				rc.Args[0], rc.Args[1] = uint64(rc.Regions[0].Start), uint64(len(mem))
			}
			if repeat < 1 {
				repeat = 1
			}
			orig := append([]byte(nil), mem...)
			var r0 uint64
			start := time.Now()
			for i := 0; i < repeat; i++ {
				copy(mem, orig)
				if r0, err = exe.Run(rc); err != nil {
					return err
				}
			}
			perRun := time.Since(start) / time.Duration(repeat)
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]any{
					"r0": r0, "mode": mode.String(), "instructions": rc.Executed,
					"duration_ns": perRun.Nanoseconds(), "mem_out": hex.EncodeToString(mem),
				})
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "r0            %#x (%d)\n", r0, int64(r0))
			fmt.Fprintf(out, "instructions  %d\n", rc.Executed)
			fmt.Fprintf(out, "duration      %v per run (%s mode, %d runs)\n", perRun, mode, repeat)
			if len(mem) > 0 {
				fmt.Fprintf(out, "mem out       %s\n", hex.EncodeToString(mem))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&memHex, "mem", "", "input memory as hex bytes")
	cmd.Flags().StringVar(&engineName, "engine", "interp", "execution engine: interp or jit")
	cmd.Flags().BoolVar(&checked, "checked", true, "validate every memory access (the program is not verified)")
	cmd.Flags().Uint64Var(&budget, "budget", 1<<30, "most instructions one run may execute")
	cmd.Flags().IntVar(&repeat, "repeat", 1, "run this many times and report the average duration")
	return cmd
}
