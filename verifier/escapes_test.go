package verifier

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/object"
)

// TestCorpusEscapes: every program of testdata/escapes.o (unsafe programs
// an earlier verifier accepted, in shapes of their own) is rejected, and
// every REJECT comment of escapes.c is matched by a finding on its line;
// programs named *_ok are safe counterparts, accepted.
// The reproducers themselves are checked by the root package's
// TestSharedEscapes when ../shared/security/escapes is present.
func TestCorpusEscapes(t *testing.T) {
	want := expectations(t, "testdata/escapes.c")
	spec, err := object.Load("testdata/escapes.o")
	if err != nil {
		t.Fatal(err)
	}
	lineRe := regexp.MustCompile(`escapes\.c:(\d+)$`)
	matched := map[int]bool{}
	for _, p := range spec.Programs {
		opts, err := objectOptions(spec, p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Verify(p.Instructions, opts)
		if strings.HasSuffix(p.Name, "_ok") {
			// A safe counterpart: the rules must not cost it.
			if err != nil {
				t.Errorf("%s: %v, want it accepted", p.Name, err)
			}
			continue
		}
		var ve *VerifierError
		if !errors.As(err, &ve) {
			t.Errorf("%s: accepted (err %v), want a rejection", p.Name, err)
			continue
		}
		for _, f := range ve.Errors {
			m := lineRe.FindStringSubmatch(f.Source)
			if m == nil {
				continue
			}
			line, _ := strconv.Atoi(m[1])
			if msg, ok := want[line]; ok && regexp.MustCompile(regexp.QuoteMeta(msg)).MatchString(f.Message) {
				matched[line] = true
			}
		}
		t.Logf("%s: %v", p.Name, ve.Errors)
	}
	for line, msg := range want {
		if !matched[line] {
			t.Errorf("line %d: no finding there contains %q", line, msg)
		}
	}
}
