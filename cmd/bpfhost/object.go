package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform/linux"
)

func newObjectCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "object", Short: "Inspect ELF objects"}
	cmd.AddCommand(&cobra.Command{
		Use:   "show OBJECT",
		Short: "List an object's programs (type, size) and maps (their specs)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, err := bpfhost.LoadCollectionSpec(args[0])
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			type progJSON struct {
				Name         string `json:"name"`
				Section      string `json:"section"`
				Type         string `json:"type"`
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
			var progs []progJSON
			for _, p := range spec.Programs {
				typ := "unknown"
				if info, ok := linux.ABI().Lookup(p.Section); ok {
					typ = info.Name
				}
				progs = append(progs, progJSON{p.Name, p.Section, typ, len(p.Instructions), len(p.Functions)})
			}
			var ms []mapJSON
			for _, m := range spec.Maps {
				ms = append(ms, mapJSON{m.Name, maps.Type(m.Type).String(), m.KeySize, m.ValueSize, m.MaxEntries, m.Flags})
			}
			out := cmd.OutOrStdout()
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				return json.NewEncoder(out).Encode(map[string]any{"license": spec.License, "programs": progs, "maps": ms})
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PROGRAM\tSECTION\tTYPE\tINSNS\tFUNCS")
			for _, p := range progs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\n", p.Name, p.Section, p.Type, p.Instructions, p.Functions)
			}
			fmt.Fprintln(tw, "\nMAP\tTYPE\tKEY\tVALUE\tMAX\tFLAGS")
			for _, m := range ms {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%#x\n", m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, m.Flags)
			}
			fmt.Fprintf(tw, "\nlicense: %s\n", spec.License)
			return tw.Flush()
		},
	})
	return cmd
}

func newDisasmCommand() *cobra.Command {
	var program string
	cmd := &cobra.Command{
		Use:   "disasm OBJECT",
		Short: "Disassemble an object's programs in LLVM syntax, with source lines",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, err := bpfhost.LoadCollectionSpec(args[0])
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			out := cmd.OutOrStdout()
			found := false
			for _, p := range spec.Programs {
				if program != "" && p.Name != program {
					continue
				}
				found = true
				fmt.Fprintf(out, "%s (section %s):\n", p.Name, p.Section)
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
				return fmt.Errorf("no program %q in %s", program, args[0])
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&program, "program", "", "only this program")
	return cmd
}

func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}
