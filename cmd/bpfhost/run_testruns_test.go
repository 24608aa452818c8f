package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testruns = "../../testdata/testruns/testruns.o"

// TestRunContextTypes runs the flow dissector, raw tracepoint, syscall and
// sk_lookup programs of testdata/testruns through bpfhost run with
// --ctx-in, --ctx-out and --data-out. The expected bytes are what Linux's
// test run gives for the same attributes (TestAgreementMoreTestRuns
// compares the Go API with the kernel; this checks the command's files and
// exit statuses).
func TestRunContextTypes(t *testing.T) {
	dir := t.TempDir()
	u32s := func(vs ...uint32) []byte {
		b := make([]byte, 4*len(vs))
		for i, v := range vs {
			binary.NativeEndian.PutUint32(b[4*i:], v)
		}
		return b
	}
	ipv4TCP := make([]byte, 14+40)
	ipv4TCP[12], ipv4TCP[13] = 0x08, 0x00
	ipv4TCP[14], ipv4TCP[23] = 0x45, 6
	copy(ipv4TCP[26:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	binary.BigEndian.PutUint16(ipv4TCP[34:], 1234)
	binary.BigEndian.PutUint16(ipv4TCP[36:], 80)
	flowKeys, _ := hex.DecodeString("0e002200000800000006080004d200500a0000010a000002" + strings.Repeat("00", 24) + "07000000" + "00000000")
	// A struct bpf_flow_keys cut short after flags: zero-extended.
	flowCtx := make([]byte, 52)
	flowCtx[48] = 7
	skLookup := make([]byte, 72)
	binary.NativeEndian.PutUint32(skLookup[8:], 2)
	binary.NativeEndian.PutUint32(skLookup[12:], 6)
	binary.NativeEndian.PutUint32(skLookup[60:], 80)

	// 5000 bytes: 3520 in the linear part, the rest in a fragment; the
	// frags program stores 0xfeedf00d at offset 4990 (in the fragment) and
	// moves the tail by 0.
	jumbo := make([]byte, 5000)
	binary.LittleEndian.PutUint16(jumbo[16:], 4990)
	jumboOut := append([]byte{}, jumbo...)
	binary.NativeEndian.PutUint32(jumboOut[4990:], 0xfeedf00d)

	for _, c := range []struct {
		name, program  string
		verdict        string // in the output
		data, ctx      []byte
		ctxOut         bool
		code           int
		wantCtx, wantD []byte
	}{
		{name: "flow dissector", program: "flow_dissect", data: ipv4TCP, ctx: flowCtx, ctxOut: true, verdict: "BPF_OK",
			wantD: flowKeys, wantCtx: append(append([]byte{}, flowCtx...), 0, 0, 0, 0)},
		{name: "flow dissector, nhoff set", program: "flow_dissect", data: ipv4TCP, ctx: u32s(14), code: 2},
		{name: "syscall", program: "sys", ctx: u32s(21, 0, 100, 0), ctxOut: true,
			wantCtx: u32s(21, 42, 121, 0), wantD: []byte{}},
		{name: "syscall, context too short", program: "sys", ctx: u32s(21, 0, 100), code: 2},
		{name: "raw tracepoint", program: "rawtp", ctx: append(u32s(5, 0, 1000, 0), make([]byte, 8)...), wantD: []byte{}},
		{name: "raw tracepoint, context out", program: "rawtp", ctx: make([]byte, 24), ctxOut: true, code: 2},
		{name: "raw tracepoint, no context", program: "rawtp", code: 2},
		{name: "sk_lookup", program: "lookup", ctx: skLookup, ctxOut: true, verdict: "SK_PASS", wantCtx: skLookup /* cookie 0: no socket selected */, wantD: []byte{}},
		{name: "sk_lookup, no context", program: "lookup", code: 2},
		{name: "xdp fragments", program: "frags", data: jumbo, verdict: "XDP_PASS", wantD: jumboOut},
		{name: "xdp, too many fragments", program: "frags", data: make([]byte, 3520+17*4096+1), code: 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"run", testruns, "--program", c.program}
			if c.data != nil {
				args = append(args, "--data", writeFile(t, "data.bin", c.data))
			}
			if c.ctx != nil {
				args = append(args, "--ctx-in", writeFile(t, "ctx.bin", c.ctx))
			}
			ctxOut, dataOut := filepath.Join(dir, c.program+".ctx"), filepath.Join(dir, c.program+".data")
			os.Remove(ctxOut)
			os.Remove(dataOut)
			if c.ctxOut {
				args = append(args, "--ctx-out", ctxOut)
			}
			args = append(args, "--data-out", dataOut)
			out, code := cli(t, args...)
			if code != c.code {
				t.Fatalf("%v: exit %d, want %d:\n%s", args, code, c.code, out)
			}
			if code != 0 {
				return
			}
			if c.verdict != "" && !strings.Contains(out, c.verdict) {
				t.Errorf("output does not name the verdict %s:\n%s", c.verdict, out)
			}
			for _, f := range []struct {
				path string
				want []byte
			}{{ctxOut, c.wantCtx}, {dataOut, c.wantD}} {
				if f.want == nil {
					continue
				}
				got, err := os.ReadFile(f.path)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, f.want) {
					t.Errorf("%s: %x, want %x", filepath.Base(f.path), got, f.want)
				}
			}
		})
	}
}
