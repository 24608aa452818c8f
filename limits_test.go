package bpfhost_test

import (
	"errors"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/verifier"
)

// TestCollectionVerifierLimits: CollectionOptions.VerifierLimits reach
// the verifier: a limit below what a program needs rejects it, naming the
// limit; the defaults accept it.
func TestCollectionVerifierLimits(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("examples/firewall.o")
	if err != nil {
		t.Fatal(err)
	}
	c, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: "interp"})
	if err != nil {
		t.Fatalf("default limits: %v", err)
	}
	c.Close()
	_, err = bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: "interp",
		VerifierLimits: verifier.Limits{MaxInstructions: 50}})
	var le *verifier.LimitError
	if !errors.As(err, &le) || !errors.Is(err, verifier.ErrLimit) {
		t.Fatalf("MaxInstructions 50: got %v, want a limit error", err)
	}
	t.Log(err)
	// The timeout bounds all the programs together: a deadline.
	_, err = bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: "interp",
		VerifierLimits: verifier.Limits{Timeout: time.Nanosecond}})
	if !errors.As(err, &le) || le.Limit != "deadline" {
		t.Fatalf("Timeout 1ns: got %v, want the deadline", err)
	}
}
