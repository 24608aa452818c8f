// Package conformance reads the bpf_conformance suite that the project's
// tests run: the test files (assembly, input memory, expected r0) and the
// fixtures file that holds each test as bytecode. The suite lives beside the
// checkout in ../shared/conformance; Dir finds it from any package directory.
package conformance

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Case is one test file of the suite.
type Case struct {
	Name   string // file name, e.g. "add.data"
	Asm    string // the "-- asm" section
	Raw    []byte // the "-- raw" section as bytecode, when present
	Mem    []byte // the "-- mem" section: input memory, nil when absent
	Result uint64 // the "-- result" section: expected r0
	// HasResult is false for negative tests that expect an error instead.
	HasResult bool
	// Error is the "-- error" section: the expected failure, for negative tests.
	Error string
}

// Fixture is one line of fixtures.jsonl: a test as bytecode.
type Fixture struct {
	Name       string   `json:"name"`
	CPUVersion string   `json:"cpu_version"`
	Groups     []string `json:"groups"`
	MemHex     string   `json:"mem"`
	ProgramHex string   `json:"program"`
	ResultHex  string   `json:"result"`
}

// Program returns the fixture's bytecode.
func (f Fixture) Program() ([]byte, error) { return hex.DecodeString(f.ProgramHex) }

// Mem returns the fixture's input memory, nil when it has none.
func (f Fixture) Mem() ([]byte, error) {
	if f.MemHex == "" {
		return nil, nil
	}
	return hex.DecodeString(f.MemHex)
}

// Result returns the expected r0.
func (f Fixture) Result() (uint64, error) {
	return strconv.ParseUint(strings.TrimPrefix(f.ResultHex, "0x"), 16, 64)
}

// Dir returns the path of shared/conformance, searching upwards from the
// working directory for a sibling "shared" folder, or an error saying it is
// absent (tests skip on that error).
func Dir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		c := filepath.Join(d, "..", "shared", "conformance")
		if st, err := os.Stat(filepath.Join(c, "tests")); err == nil && st.IsDir() {
			return c, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("../shared/conformance not found above %s", wd)
		}
	}
}

// LoadCases reads every *.data file in dir, sorted by name.
func LoadCases(dir string) ([]Case, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.data"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	cases := make([]Case, 0, len(names))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		c, err := ParseCase(filepath.Base(n), string(b))
		if err != nil {
			return nil, err
		}
		cases = append(cases, c)
	}
	return cases, nil
}

// ParseCase parses the text of one test file.
func ParseCase(name, text string) (Case, error) {
	c := Case{Name: name}
	sections := map[string]*strings.Builder{}
	var cur *strings.Builder
	for _, line := range strings.Split(text, "\n") {
		if h, ok := strings.CutPrefix(line, "-- "); ok {
			cur = &strings.Builder{}
			sections[strings.TrimSpace(h)] = cur
			continue
		}
		if cur != nil {
			cur.WriteString(line)
			cur.WriteByte('\n')
		}
	}
	get := func(k string) (string, bool) {
		b, ok := sections[k]
		if !ok {
			return "", false
		}
		return b.String(), true
	}
	c.Asm, _ = get("asm")
	if m, ok := get("mem"); ok {
		b, err := hex.DecodeString(strings.Join(strings.Fields(m), ""))
		if err != nil {
			return c, fmt.Errorf("%s: mem: %w", name, err)
		}
		c.Mem = b
	}
	if r, ok := get("raw"); ok {
		for _, f := range strings.Fields(stripComments(r)) {
			if v, ok := strings.CutPrefix(f, "0x"); ok { // one 64-bit word per line
				w, err := strconv.ParseUint(v, 16, 64)
				if err != nil {
					return c, fmt.Errorf("%s: raw: %w", name, err)
				}
				for i := 0; i < 8; i++ {
					c.Raw = append(c.Raw, byte(w>>(8*i)))
				}
				continue
			}
			b, err := hex.DecodeString(f)
			if err != nil {
				return c, fmt.Errorf("%s: raw: %w", name, err)
			}
			c.Raw = append(c.Raw, b...)
		}
	}
	if r, ok := get("result"); ok {
		v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(stripComments(r)), "0x"), 16, 64)
		if err != nil {
			return c, fmt.Errorf("%s: result: %w", name, err)
		}
		c.Result, c.HasResult = v, true
	}
	if e, ok := get("error"); ok {
		c.Error = strings.TrimSpace(e)
		if c.Error == "" {
			c.Error = "error"
		}
	}
	return c, nil
}

func stripComments(s string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// Load reads the whole suite in dir (Dir's result): the test files of
// dir/tests and the fixtures.
func Load(dir string) ([]Case, []Fixture, error) {
	cases, err := LoadCases(filepath.Join(dir, "tests"))
	if err != nil {
		return nil, nil, err
	}
	fixtures, err := LoadFixtures(dir)
	if err != nil {
		return nil, nil, err
	}
	return cases, fixtures, nil
}

// LoadFixtures reads fixtures.jsonl from the suite directory.
func LoadFixtures(dir string) ([]Fixture, error) {
	f, err := os.Open(filepath.Join(dir, "fixtures.jsonl"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Fixture
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var fx Fixture
		if err := json.Unmarshal(sc.Bytes(), &fx); err != nil {
			return nil, fmt.Errorf("fixtures.jsonl: %w", err)
		}
		out = append(out, fx)
	}
	return out, sc.Err()
}

// Helpers are the helper functions the suite's programs may call, by ID,
// in the form bpfhost.RawOptions takes: helper 5 returns its first argument.
var Helpers = map[int32]func(r1, r2, r3, r4, r5 uint64) (uint64, error){
	5: func(r1, _, _, _, _ uint64) (uint64, error) { return r1, nil },
}
