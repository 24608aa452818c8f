package verifier

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/object"
)

// TestCorpusSafe: every program of the safe objects is accepted.
func TestCorpusSafe(t *testing.T) {
	for _, path := range []string{"testdata/safe.o", "testdata/v4.o"} {
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("committed object missing: %v", err)
		}
		for name, err := range verifyObject(t, path) {
			if err != nil {
				t.Errorf("%s: %s: %v", path, name, err)
			}
		}
	}
}

// expectations reads "// REJECT: message" comments: line number -> message.
func expectations(t *testing.T, src string) map[int]string {
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[int]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if _, msg, ok := strings.Cut(sc.Text(), "// REJECT: "); ok {
			out[n] = strings.TrimSpace(msg)
		}
	}
	return out
}

// TestCorpusUnsafe: every program of unsafe.o is rejected, and its first
// finding is the expected message on the expected source line.
func TestCorpusUnsafe(t *testing.T) {
	checkRejections(t, "testdata/unsafe.c", "testdata/unsafe.o")
}

// checkRejections verifies every program of the object built from src: each
// must be rejected with its first finding on a line of src marked
// "// REJECT: message", containing the message, and every marked line must
// be some program's first finding.
func checkRejections(t *testing.T, src, obj string) {
	t.Helper()
	want := expectations(t, src)
	spec, err := object.Load(obj)
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Base(src)
	lineRe := regexp.MustCompile(regexp.QuoteMeta(base) + `:(\d+)$`)
	seen := map[int]bool{}
	for _, p := range spec.Programs {
		opts, err := objectOptions(spec, p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Verify(p.Instructions, opts)
		var ve *VerifierError
		if !errors.As(err, &ve) {
			t.Errorf("%s: accepted (err %v), want a rejection", p.Name, err)
			continue
		}
		first := ve.Errors[0]
		m := lineRe.FindStringSubmatch(first.Source)
		if m == nil {
			t.Errorf("%s: first finding %q has no %s line", p.Name, first, base)
			continue
		}
		line, _ := strconv.Atoi(m[1])
		msg, ok := want[line]
		if !ok {
			t.Errorf("%s: first finding on line %d, which expects nothing: %s", p.Name, line, first)
			continue
		}
		seen[line] = true
		if !strings.Contains(first.Message, msg) {
			t.Errorf("%s: line %d: got %q, want it to contain %q", p.Name, line, first.Message, msg)
		}
		t.Logf("%s: %s", p.Name, ve.Error())
	}
	for line, msg := range want {
		if !seen[line] {
			t.Errorf("line %d (%q): no program's first finding is there", line, msg)
		}
	}
}

// TestObjectTestdata verifies the object package's test objects where they
// name a known program type; they are parser fixtures, so only a panic or
// an error other than a rejection fails.
func TestObjectTestdata(t *testing.T) {
	paths, _ := filepath.Glob("../object/testdata/*.o")
	if len(paths) == 0 {
		t.Fatal("no objects in ../object/testdata")
	}
	for _, path := range paths {
		spec, err := object.Load(path)
		if err != nil {
			t.Errorf("committed object: %v", err)
			continue
		}
		for _, p := range spec.Programs {
			opts, err := objectOptions(spec, p)
			if err != nil {
				continue
			}
			_, err = Verify(p.Instructions, opts)
			var ve *VerifierError
			if err != nil && !errors.As(err, &ve) {
				t.Errorf("%s: %s: %v", path, p.Name, err)
			}
			t.Logf("%s: %s: %v", filepath.Base(path), p.Name, err)
		}
	}
}
