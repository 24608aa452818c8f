package object

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// realworldDir holds objects other projects built with their own
// toolchains (see its README); it is shared test input, never copied in.
const realworldDir = "../../shared/realworld"

// minRealworldLoaded is the number of objects outside invalid/ that must
// load. Raise it when the loader learns more; a drop is a regression.
const minRealworldLoaded = 69

// minRealworldPrograms is the number of programs of expect.csv the loaded
// objects must declare, in the section and under the name it gives.
const minRealworldPrograms = 178

// realworldObjects lists the objects of the realworld folders (all
// subfolders except invalid/), skipping the test when the folder is absent.
func realworldObjects(t *testing.T) []string {
	t.Helper()
	if _, err := os.Stat(realworldDir); err != nil {
		t.Skipf("realworld objects not available: %v", err)
	}
	var files []string
	err := filepath.WalkDir(realworldDir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "invalid" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".o") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

// realworldProgram finds the program of expect.csv's row (section,
// function): for old objects whose functions have no STT_FUNC symbol the
// function column repeats the section, which must then hold one program.
func realworldProgram(spec *Spec, section, function string) *ProgramSpec {
	if p := spec.Program(function); p != nil && p.Section == section {
		return p
	}
	if function != section {
		return nil
	}
	var found *ProgramSpec
	for _, p := range spec.Programs {
		if p.Section == section {
			if found != nil {
				return nil
			}
			found = p
		}
	}
	return found
}

// TestRealworldLoad loads every realworld object and reports how many load;
// it fails when fewer than minRealworldLoaded do.
func TestRealworldLoad(t *testing.T) {
	files := realworldObjects(t)
	loaded := 0
	for _, path := range files {
		rel, _ := filepath.Rel(realworldDir, path)
		spec, err := Load(path)
		if err != nil {
			t.Logf("%s: %v", rel, err)
			continue
		}
		loaded++
		if len(spec.Programs) == 0 {
			t.Logf("%s: loads with no programs", rel)
		}
	}
	t.Logf("%d of %d realworld objects load", loaded, len(files))
	if loaded < minRealworldLoaded {
		t.Errorf("%d of %d realworld objects load, want at least %d", loaded, len(files), minRealworldLoaded)
	}

	expect, err := os.ReadFile(filepath.Join(realworldDir, "expect.csv"))
	if err != nil {
		t.Fatal(err)
	}
	specs := map[string]*Spec{}
	found, rows := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(string(expect)), "\n")[1:] {
		f := strings.Split(line, ",")
		if len(f) < 3 {
			t.Fatalf("expect.csv: line %q", line)
		}
		rows++
		spec, ok := specs[f[0]]
		if !ok {
			spec, _ = Load(filepath.Join(realworldDir, f[0]))
			specs[f[0]] = spec
		}
		if spec == nil {
			continue
		}
		if p := realworldProgram(spec, f[1], f[2]); p == nil {
			t.Logf("%s: no program %q in section %q", f[0], f[2], f[1])
			continue
		}
		found++
	}
	total := 0
	for _, spec := range specs {
		if spec != nil {
			total += len(spec.Programs)
		}
	}
	t.Logf("%d of %d programs of expect.csv found; the objects declare %d", found, rows, total)
	if found < minRealworldPrograms {
		t.Errorf("%d of %d programs of expect.csv found, want at least %d", found, rows, minRealworldPrograms)
	}
}

// invalidThatLoad are the files of realworld/invalid that are well-formed
// objects as far as the loader can tell: their verdict is the verifier's.
var invalidThatLoad = map[string]string{
	"662b334a22904023c13f11008e072076a4f4d215":         "a flipped bit in the name of a debug section",
	"dac31099c3bb5b6395908c82cc8540e77a6a1849":         "an eBPF-for-Windows bind program",
	"ef2e42c0bfcf4dab6b9c3926759365b6dfa73634":         "no program sections, one .text function",
	"timeout-29db93548c671165313b314d4f83a3eefa24df37": "eBPF-for-Windows bind programs that time verifiers out",
}

// TestRealworldInvalid loads every file of realworld/invalid: each must end
// quickly with a clear error, never a panic or a hang, except the few that
// are well-formed objects (invalidThatLoad) and go on to the verifier.
func TestRealworldInvalid(t *testing.T) {
	dir := filepath.Join(realworldDir, "invalid")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Skipf("realworld/invalid not available: %v", err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			start := time.Now()
			_, err := Load(filepath.Join(dir, e.Name()))
			if why, ok := invalidThatLoad[e.Name()]; ok {
				if err != nil {
					t.Errorf("%v; want it to load (%s)", err, why)
				}
				return
			}
			if err == nil {
				t.Fatalf("loaded without error")
			}
			if !errors.Is(err, ErrInvalidObject) && !errors.Is(err, ErrNotSupported) {
				t.Errorf("error %q wraps neither ErrInvalidObject nor ErrNotSupported", err)
			}
			if d := time.Since(start); d > 60*time.Second { // a hang guard
				t.Errorf("took %v", d)
			}
			t.Log(err)
		})
	}
}
