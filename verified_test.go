package bpfhost_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/bpfhost/bpfhost"
)

// counterSpec is the daemon's counter object: an XDP program with context
// accesses and lookups in two maps.
func counterSpec(t *testing.T) *bpfhost.CollectionSpec {
	t.Helper()
	spec, err := bpfhost.LoadCollectionSpec("daemon/testdata/counter.o")
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// TestVerifiedLoadsAsVerifying loads the counter object with verdicts from
// VerifyCollection and checks that it is the same program, behaving the
// same, as when NewCollection verifies it itself.
func TestVerifiedLoadsAsVerifying(t *testing.T) {
	spec := counterSpec(t)
	verified, err := bpfhost.VerifyCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(verified) != 1 || verified["count_packets"] == nil {
		t.Fatalf("verdicts: %v", verified)
	}
	self, err := bpfhost.NewCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	given, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Verified: verified})
	if err != nil {
		t.Fatal(err)
	}
	defer given.Close()
	ps, pg := self.Programs["count_packets"], given.Programs["count_packets"]
	if ps.Engine() != pg.Engine() || len(ps.Instructions()) != len(pg.Instructions()) {
		t.Fatalf("engines %s and %s, %d and %d instructions", ps.Engine(), pg.Engine(), len(ps.Instructions()), len(pg.Instructions()))
	}
	for _, pkt := range [][]byte{{}, {3}, {3, 1}, {9, 9, 9}} {
		rs, _, errS := ps.Test(pkt)
		rg, _, errG := pg.Test(pkt)
		if rs != rg || (errS == nil) != (errG == nil) {
			t.Fatalf("packet %x: %d, %v verifying; %d, %v with the verdict", pkt, rs, errS, rg, errG)
		}
	}
	for _, name := range []string{"counts", "total"} {
		ds, dg := dumpAll(t, self.Maps[name]), dumpAll(t, given.Maps[name])
		if !slices.Equal(ds, dg) {
			t.Fatalf("map %s: %v verifying, %v with the verdict", name, ds, dg)
		}
	}
}

// dumpAll returns the map's entries as key/value strings, sorted.
func dumpAll(t *testing.T, m *bpfhost.Map) []string {
	t.Helper()
	var out []string
	var k, v []byte
	it := m.Iterate()
	for it.Next(&k, &v) {
		out = append(out, string(k)+"="+string(v))
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestVerifiedMismatchRefused checks that a verdict is never applied to
// other instructions, another program type or other limits, nor with facts
// that do not fit the program.
func TestVerifiedMismatchRefused(t *testing.T) {
	spec := counterSpec(t)
	verified, err := bpfhost.VerifyCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := verified["count_packets"]
	cases := map[string]func() (*bpfhost.CollectionSpec, *bpfhost.CollectionOptions){
		"instruction": func() (*bpfhost.CollectionSpec, *bpfhost.CollectionOptions) {
			s := spec.Copy()
			ins := s.Programs[0].Instructions
			last := len(ins) - 2 // the mov of XDP_PASS before exit
			ins[last].Imm++
			return s, &bpfhost.CollectionOptions{Verified: verified}
		},
		"type": func() (*bpfhost.CollectionSpec, *bpfhost.CollectionOptions) {
			return spec, &bpfhost.CollectionOptions{ProgramType: "sched_cls", Verified: verified}
		},
		"limits": func() (*bpfhost.CollectionSpec, *bpfhost.CollectionOptions) {
			return spec, &bpfhost.CollectionOptions{VerifierLimits: bpfhost.VerifierLimits{MaxInstructions: 10_000}, Verified: verified}
		},
		"map": func() (*bpfhost.CollectionSpec, *bpfhost.CollectionOptions) {
			s := spec.Copy()
			s.Maps[0].ValueSize = 4
			return s, &bpfhost.CollectionOptions{Verified: verified}
		},
		"facts": func() (*bpfhost.CollectionSpec, *bpfhost.CollectionOptions) {
			bad := *v
			bad.Facts.MapArgs = bad.Facts.MapArgs[:len(bad.Facts.MapArgs)-1]
			return spec, &bpfhost.CollectionOptions{Verified: map[string]*bpfhost.VerifiedProgram{"count_packets": &bad}}
		},
		"digest": func() (*bpfhost.CollectionSpec, *bpfhost.CollectionOptions) {
			bad := *v
			bad.Digest = slices.Clone(v.Digest)
			bad.Digest[0] ^= 1
			return spec, &bpfhost.CollectionOptions{Verified: map[string]*bpfhost.VerifiedProgram{"count_packets": &bad}}
		},
	}
	for name, mk := range cases {
		s, opts := mk()
		c, err := bpfhost.NewCollection(s, opts)
		if err == nil {
			c.Close()
			t.Errorf("%s: a mismatching verdict was used", name)
		} else if !errors.Is(err, bpfhost.ErrVerifiedMismatch) {
			t.Errorf("%s: %v, want ErrVerifiedMismatch", name, err)
		}
	}
}
