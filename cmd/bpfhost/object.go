package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/isa"
)

func newObjectCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "object", Short: "Inspect ELF objects"}
	var types []string
	show := &cobra.Command{
		Use:   "show OBJECT",
		Short: "List an object's programs (type, size) and maps (their specs)",
		Long: `List an object's programs, with the type each gets and where it comes from
(section, section prefix, or --type), and its maps. Programs whose section names
no type are listed with none: verify and run need --type for them. A section
name that begins with "?" (libbpf's SEC("?xdp")) marks a program that is not
loaded automatically ("autoload": false): its type is the one the rest names.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			topts, err := typeOptions(types)
			if err != nil {
				return err
			}
			spec, err := loadSpecFor(args[0], "", topts)
			if err != nil {
				return err
			}
			if err := bpfhost.CheckProgramTypes(spec, topts); err != nil {
				return &exitError{code: 2, err: fmt.Errorf("--type: %w", err)}
			}
			type progJSON struct {
				Name         string `json:"name"`
				Section      string `json:"section"`
				Autoload     bool   `json:"autoload"`
				Type         string `json:"type"`
				TypeSource   string `json:"type_source"`
				Instructions int    `json:"instructions"`
				Functions    int    `json:"functions"`
			}
			type mapJSON struct {
				Name       string `json:"name"`
				Type       string `json:"type"`
				KeySize    uint32 `json:"key_size"`
				ValueSize  uint32 `json:"value_size"`
				MaxEntries uint32 `json:"max_entries"`
				Flags      uint32 `json:"flags"`
			}
			progs := []progJSON{}
			untyped := []string{}
			for _, p := range spec.Programs {
				typ, source, err := typeForShow(p, topts)
				if errors.Is(err, bpfhost.ErrNoProgramType) {
					untyped = append(untyped, p.Name)
				} else if err != nil {
					return err
				}
				progs = append(progs, progJSON{p.Name, elfSection(p), !p.NoAutoload, typ, string(source), len(p.Instructions), len(p.Functions)})
			}
			textFuncs := textFunctions(args[0])
			if textFuncs == nil {
				textFuncs = []string{}
			}
			ms := []mapJSON{}
			for _, m := range spec.Maps {
				ms = append(ms, mapJSON{m.Name, bpfhost.MapType(m.Type).String(), m.KeySize, m.ValueSize, m.MaxEntries, m.Flags})
			}
			out := cmd.OutOrStdout()
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				return json.NewEncoder(out).Encode(map[string]any{"license": spec.License, "programs": progs, "maps": ms,
					"untyped": untyped, "text_functions": textFuncs})
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PROGRAM\tSECTION\tTYPE\tFROM\tINSNS\tFUNCS")
			for _, p := range progs {
				typ, source := p.Type, p.TypeSource
				if typ == "" {
					typ, source = "-", "none"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", p.Name, p.Section, typ, source, p.Instructions, p.Functions)
			}
			if len(untyped) > 0 {
				fmt.Fprintf(tw, "\nno type: %s (their sections name none: give one with --type TYPE or --type PROGRAM=TYPE)\n", strings.Join(untyped, ", "))
			}
			if skip := notAutoloaded(spec); len(skip) > 0 {
				fmt.Fprintf(tw, "not loaded automatically: %s (their sections begin with \"?\", as libbpf's SEC(\"?...\"): commands over every program skip them; --program NAME loads one)\n", strings.Join(skip, ", "))
			}
			if len(textFuncs) > 0 {
				fmt.Fprintf(tw, "functions in .text: %s (verify one on its own with --program NAME --type TYPE)\n", strings.Join(textFuncs, ", "))
			}
			fmt.Fprintln(tw, "\nMAP\tTYPE\tKEY\tVALUE\tMAX\tFLAGS")
			for _, m := range ms {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%#x\n", m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, m.Flags)
			}
			fmt.Fprintf(tw, "\nlicense: %s\n", spec.License)
			return tw.Flush()
		},
	}
	addTypeFlag(show, &types)
	cmd.AddCommand(show)
	return cmd
}

func newDisasmCommand() *cobra.Command {
	var program string
	var jited bool
	cmd := &cobra.Command{
		Use:   "disasm OBJECT",
		Short: "Disassemble an object's programs in LLVM syntax, with source lines",
		Long: `Disassemble an object's programs in LLVM syntax, with source lines.
With --jited, load the object (verifying it) and print the x86-64 code the JIT
generated for each eBPF instruction, beside it; programs of sections whose names
begin with "?" (not loaded automatically, as libbpf) are loaded only if --program
names one.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, err := bpfhost.LoadCollectionSpec(args[0])
			if err != nil {
				return badInput(err)
			}
			if err := checkProgram(spec, args[0], program); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if jited {
				return disasmJited(out, cmd.ErrOrStderr(), spec, program)
			}
			found := false
			for _, p := range spec.Programs {
				if program != "" && p.Name != program {
					continue
				}
				found = true
				fmt.Fprintf(out, "%s (section %s):\n", p.Name, elfSection(p))
				last := ""
				for pc := 0; pc < len(p.Instructions); {
					if f := p.FunctionAt(pc); f.Start == pc && pc != 0 {
						fmt.Fprintf(out, "\n%s:\n", f.Name)
					}
					if l := p.Line(pc); l.Known() && l.Text != "" {
						if key := l.String(); key != last {
							fmt.Fprintf(out, "; %s  // %s\n", trimSpace(l.Text), key)
							last = key
						}
					}
					text, n := isa.FormatLLVM(p.Instructions, pc)
					if n == 0 {
						n = 1
					}
					fmt.Fprintf(out, "%6d:\t%s\n", pc, text)
					pc += n
				}
				fmt.Fprintln(out)
			}
			if !found {
				return badInput(fmt.Errorf("no program %q in %s", program, args[0]))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&program, "program", "", "only this program")
	cmd.Flags().BoolVar(&jited, "jited", false, "print the JIT's x86-64 code beside each eBPF instruction")
	return cmd
}

// disasmJited loads the object with the JIT and prints, for each eBPF
// instruction as it runs (map references resolved, context accesses in the
// host layout), the machine code generated for it.
func disasmJited(out, errOut io.Writer, spec *bpfhost.CollectionSpec, program string) error {
	opts := &bpfhost.CollectionOptions{Engine: bpfhost.EngineJIT}
	if program != "" {
		opts.Programs = []string{program} // and what it tail-calls
	}
	coll, err := bpfhost.NewCollection(spec, opts)
	if err != nil {
		return err
	}
	defer coll.Close()
	found := false
	var skipped []string
	for _, ps := range spec.Programs {
		if program != "" && ps.Name != program {
			continue
		}
		found = true
		p := coll.Programs[ps.Name]
		if p == nil { // a "?" section's program, not loaded
			skipped = append(skipped, ps.Name)
			continue
		}
		blocks, err := p.JITListing()
		if err != nil {
			return fmt.Errorf("program %q: %w", ps.Name, err)
		}
		insns := p.Instructions()
		fmt.Fprintf(out, "%s (section %s, jited):\n", ps.Name, elfSection(ps))
		for _, b := range blocks {
			switch {
			case b.PC < 0:
				fmt.Fprintf(out, "\n<%s>:\n", b.Name)
			case b.OutOfLine:
				fmt.Fprintf(out, "\n<out of line, instruction %d>:\n", b.PC)
			default:
				text, _ := isa.FormatLLVM(insns, b.PC)
				fmt.Fprintf(out, "%6d:\t%s\n", b.PC, text)
			}
			for _, line := range b.Insns {
				fmt.Fprintf(out, "\t\t%s\n", line)
			}
		}
		fmt.Fprintln(out)
	}
	if !found {
		return badInput(fmt.Errorf("no program %q", program))
	}
	noteSkipped(errOut, skipped)
	return nil
}

// checkProgram fails when the object has no program, or not the one named
// (program "" selects every program).
func checkProgram(spec *bpfhost.CollectionSpec, path, program string) error {
	if len(spec.Programs) == 0 {
		return badInput(fmt.Errorf("%s: no programs (functions in .text are not programs)", path))
	}
	if program != "" && spec.Program(program) == nil {
		names := make([]string, 0, len(spec.Programs))
		for _, p := range spec.Programs {
			names = append(names, p.Name)
		}
		return badInput(fmt.Errorf("no program %q in %s (it has %s)", program, path, strings.Join(names, ", ")))
	}
	return nil
}

func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}
