// Command conformance-plugin runs one eBPF program for the bpf_conformance
// test runner, speaking its plugin protocol:
//
//	conformance-plugin [MEMORY-HEX] [--engine interp] < PROGRAM-HEX
//
// The optional first argument is the input memory as hex bytes (spaces
// allowed); the program arrives on stdin as hex bytes. r1 points at a private
// copy of the memory (0 when there is none) and r2 holds its length. Helper 5
// returns its first argument. On success the plugin prints r0 in hex and
// exits 0; otherwise it prints the error to stderr and exits 1.
//
// Programs run in checked mode on either engine (--engine jit is the
// checked JIT): they are not verified, so every memory access is validated
// against the stack and the input memory.
package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
	"github.com/bpfhost/bpfhost/vm/jit"
)

func main() {
	r0, err := run(os.Args[1:], os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance-plugin:", err)
		os.Exit(1)
	}
	fmt.Printf("%x\n", r0)
}

// engines lists the engines the plugin can run.
var engines = map[string]vm.Engine{"interp": interp.New(), "jit": jit.New()}

func run(args []string, stdin io.Reader) (uint64, error) {
	var memHex string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		memHex, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("conformance-plugin", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	engineName := fs.String("engine", "interp", "execution engine: interp or jit")
	budget := fs.Uint64("budget", 1<<30, "instruction budget")
	if err := fs.Parse(args); err != nil {
		return 0, err
	}
	engine, ok := engines[*engineName]
	if !ok {
		return 0, fmt.Errorf("unknown engine %q", *engineName)
	}
	mem, err := parseHex(memHex)
	if err != nil {
		return 0, fmt.Errorf("memory: %w", err)
	}
	progText, err := io.ReadAll(stdin)
	if err != nil {
		return 0, err
	}
	code, err := parseHex(string(progText))
	if err != nil {
		return 0, fmt.Errorf("program: %w", err)
	}
	prog, err := isa.Decode(code)
	if err != nil {
		return 0, err
	}
	return Run(engine, prog, mem, *budget)
}

// Run executes prog in checked mode with r1 and r2 describing a private copy
// of mem, the way the conformance suite expects.
func Run(engine vm.Engine, prog []isa.Instruction, mem []byte, budget uint64) (uint64, error) {
	exe, err := engine.Compile(&vm.Program{Instructions: prog, Helpers: vm.Helpers{5: identity}}, vm.CompileOptions{Mode: vm.Checked})
	if err != nil {
		return 0, err
	}
	defer exe.Close()
	rc := &vm.RunContext{Budget: budget}
	if len(mem) > 0 {
		buf := append([]byte(nil), mem...)
		rc.Regions = []vm.Region{vm.RegionOf("memory", buf, true)}
		rc.Args[0], rc.Args[1] = uint64(rc.Regions[0].Start), uint64(len(buf))
		defer runtime.KeepAlive(buf)
	}
	return exe.Run(rc)
}

func identity(_ *vm.RunContext, r1, _, _, _, _ uint64) (uint64, error) { return r1, nil }

func parseHex(s string) ([]byte, error) {
	s = strings.Join(strings.Fields(s), "")
	if s == "" {
		return nil, nil
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, errors.New("not hex bytes: " + err.Error())
	}
	return b, nil
}
