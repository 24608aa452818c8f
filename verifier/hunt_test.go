package verifier

import (
	"strings"
	"testing"
)

// huntGaps are the programs of testdata/hunt.o and testdata/hunt-v1.o (all
// accepted by Linux) that bpfhost still rejects, by object and program,
// each with a part of its diagnostic. The list is a ratchet: a program that
// becomes accepted must leave it.
var huntGaps = map[string]string{
	// BPF_ST into the context (clang -mcpu=v4 stores constants so).
	"hunt.o ctx_store_imm":       "BPF_ST (store of an immediate) to the context",
	"hunt.o sock_addr_store_imm": "BPF_ST (store of an immediate) to the context",
	// A pointer as bpf_probe_read_kernel's source (ARG_ANYTHING in Linux).
	"hunt.o probe_read_ctx":           "passed to bpf_probe_read_kernel where a number is expected",
	"hunt.o probe_read_raw_tp_arg":    "passed to bpf_probe_read_kernel where a number is expected",
	"hunt.o probe_read_stack_src":     "passed to bpf_probe_read_kernel_str where a number is expected",
	"hunt-v1.o probe_read_ctx":        "passed to bpf_probe_read_kernel where a number is expected",
	"hunt-v1.o probe_read_raw_tp_arg": "passed to bpf_probe_read_kernel where a number is expected",
	"hunt-v1.o probe_read_stack_src":  "passed to bpf_probe_read_kernel_str where a number is expected",
	// The same with bpf_probe_read_str and a variable offset into the
	// context (libbpf-bootstrap's __data_loc read).
	"hunt.o probe_read_str_data_loc":    "passed to bpf_probe_read_str where a number is expected",
	"hunt-v1.o probe_read_str_data_loc": "passed to bpf_probe_read_str where a number is expected",
	// A loop whose exit tests a copy of the counter zero-extended by
	// shifts (-mcpu=v1).
	"hunt-v1.o countdown_zext": "loop may not terminate",
	"hunt-v1.o countup_zext":   "loop may not terminate",
}

// TestHuntGaps: each program of testdata/hunt.o and testdata/hunt-v1.o is
// accepted unless huntGaps lists it, and then rejected with the listed
// diagnostic.
func TestHuntGaps(t *testing.T) {
	for _, obj := range []string{"hunt.o", "hunt-v1.o"} {
		results := verifyObject(t, "testdata/"+obj)
		if len(results) != 8 {
			t.Errorf("%d programs in testdata/%s, want 8", len(results), obj)
		}
		for name, err := range results {
			key := obj + " " + name
			want, gap := huntGaps[key]
			switch {
			case !gap && err != nil:
				t.Errorf("%s: rejected: %v", key, err)
			case gap && err == nil:
				t.Errorf("%s: accepted now: remove it from huntGaps", key)
			case gap && !strings.Contains(err.Error(), want):
				t.Errorf("%s: rejected with %v, want %q", key, err, want)
			}
		}
	}
}
