package bpfhost

import (
	"errors"
	"strings"
	"testing"
)

// xdpToolsShapes are the programs of testdata/xdptools, each a shape that
// xdp-tools' and libxdp's objects have (TestXDPTools measures those), with
// bpfhost's verdict: "" loads, otherwise a fragment of the verifier's or
// the loader's error. TestXDPToolsKernel checks the same verdicts against
// the running kernel.
var xdpToolsShapes = []struct {
	object, program, refuse string
}{
	{"perfsize.o", "perf_no_sizes", ""},
	{"vprintk.o", "printk_four", ""},
	{"frags.o", "frags_bytes", ""},
	{"frags.o", "frags_devmap", ""},
	{"frags.o", "frags_cpumap", ""},
	{"xsk.o", "xsk_lookup", ""},
	{"xsk.o", "xsk_past_field", "bpf_xdp_sock"},
	{"xsk.o", "xsk_write", "cannot be written"},
	{"xsk.o", "xsk_unchecked", "NULL"},
	{"spinjoin.o", "lock_after_insert", ""},
	{"spinjoin.o", "lock_in_branches", ""},
	{"spinjoin.o", "unlock_other", "different lock"},
	// Linux: "metadata kfuncs require device-bound program".
	{"kfunc.o", "rx_metadata", "kernel function bpf_xdp_metadata_rx_timestamp"},
	{"fib.o", "fib_query", ""},
	{"mtu.o", "mtu_query", ""},
}

// TestXDPToolsShapes loads each program of xdpToolsShapes alone and checks
// bpfhost's verdict: what Linux accepts loads (maps created, program
// compiled), what it refuses is refused with an error that says why.
func TestXDPToolsShapes(t *testing.T) {
	for _, tt := range xdpToolsShapes {
		t.Run(tt.program, func(t *testing.T) {
			spec, err := LoadCollectionSpec("testdata/xdptools/" + tt.object)
			if err != nil {
				t.Fatal(err)
			}
			c, err := NewCollection(spec, &CollectionOptions{Programs: []string{tt.program}})
			if tt.refuse == "" {
				if err != nil {
					t.Fatalf("%s: %v", tt.program, err)
				}
				c.Close()
				return
			}
			if err == nil {
				c.Close()
				t.Fatalf("%s loads; want it refused (%s)", tt.program, tt.refuse)
			}
			var ve *VerifierError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tt.refuse) {
				t.Errorf("%s: %v; want a verifier error about %q", tt.program, err, tt.refuse)
			}
		})
	}
}

// TestXDPToolsShapesRun runs the programs whose result bpfhost defines
// without AF_XDP sockets or a console: libxdp's AF_XDP program finds no
// socket on the queue and passes the frame on (XDP_PASS), as Linux does
// on a queue no socket is bound to; bpf_printk with four arguments prints
// its line.
func TestXDPToolsShapesRun(t *testing.T) {
	spec, err := LoadCollectionSpec("testdata/xdptools/xsk.o")
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCollection(spec, &CollectionOptions{Programs: []string{"xsk_lookup"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if r, err := c.Programs["xsk_lookup"].Run(&RunOptions{Data: make([]byte, 64)}); err != nil || r != 2 {
		t.Errorf("xsk_lookup = %d, %v; want 2 (XDP_PASS)", r, err)
	}

	spec, err = LoadCollectionSpec("testdata/xdptools/vprintk.o")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := NewCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.Programs["printk_four"].Run(&RunOptions{Data: make([]byte, 60)}); err != nil {
		t.Fatal(err)
	}
	if got := pc.Printk(); len(got) != 1 || !strings.HasPrefix(got[0], "len 60 queue 0 ifindex ") {
		t.Errorf("printk lines %q, want one starting with \"len 60 queue 0 ifindex \"", got)
	}
}

// TestTargetProgram: a program whose attach target its loader chooses
// (freplace; fentry on a name no kernel function has, as xdpdump's
// "fentry/func") cannot be verified, and the error says why
// (ErrTargetProgram) instead of judging it against a made-up context.
func TestTargetProgram(t *testing.T) {
	spec, err := LoadCollectionSpec("testdata/xdptools/target.o")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"replace_prog0", "trace_entry"} {
		ps := spec.Program(name)
		if ps == nil {
			t.Fatalf("no program %s", name)
		}
		info, _, err := ProgramType(ps, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = VerifyProgram(spec, ps, info, &VerifyOptions{KernelBTF: "testdata/btfptr/kernel.o"})
		var ve *VerifierError
		if !errors.Is(err, ErrTargetProgram) || errors.As(err, &ve) {
			t.Errorf("%s: %v; want ErrTargetProgram, not a verdict", name, err)
		}
	}
}
