package verifier

import (
	"strings"
	"testing"
)

// huntGaps are the programs of testdata/hunt.o (all accepted by Linux)
// that bpfhost still rejects, each with a part of its diagnostic. The list
// is a ratchet: a program that becomes accepted must leave it.
var huntGaps = map[string]string{
	// BPF_ST into the context (clang -mcpu=v4 stores constants so).
	"ctx_store_imm":       "BPF_ST (store of an immediate) to the context",
	"sock_addr_store_imm": "BPF_ST (store of an immediate) to the context",
	// A pointer as bpf_probe_read_kernel's source (ARG_ANYTHING in Linux).
	"probe_read_ctx":        "passed to bpf_probe_read_kernel where a number is expected",
	"probe_read_raw_tp_arg": "passed to bpf_probe_read_kernel where a number is expected",
	"probe_read_stack_src":  "passed to bpf_probe_read_kernel_str where a number is expected",
}

// TestHuntGaps: each program of testdata/hunt.o is accepted unless
// huntGaps lists it, and then rejected with the listed diagnostic.
func TestHuntGaps(t *testing.T) {
	results := verifyObject(t, "testdata/hunt.o")
	if len(results) != 5 {
		t.Errorf("%d programs in testdata/hunt.o, want 5", len(results))
	}
	for name, err := range results {
		want, gap := huntGaps[name]
		switch {
		case !gap && err != nil:
			t.Errorf("%s: rejected: %v", name, err)
		case gap && err == nil:
			t.Errorf("%s: accepted now: remove it from huntGaps", name)
		case gap && !strings.Contains(err.Error(), want):
			t.Errorf("%s: rejected with %v, want %q", name, err, want)
		}
	}
}
