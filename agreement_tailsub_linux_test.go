package bpfhost_test

import "testing"

// TestAgreementTailSub runs testdata/tailsub (tail calls made in
// subprograms: hit, miss, nested, the 33-call limit reached from inside
// subprograms) in the Linux kernel and in bpfhost, and compares every
// retval and the final global data.
func TestAgreementTailSub(t *testing.T) {
	var pkts [][]byte
	for _, in := range tailSubInputs {
		pkt := make([]byte, 64)
		pkt[0], pkt[1] = in.slot, in.how
		pkts = append(pkts, pkt)
	}
	for _, program := range []string{"entry", "recur", "spent"} {
		t.Run(program, func(t *testing.T) {
			compareOutcomes(t, agreement{object: "testdata/tailsub/tailsub.o", program: program, inputs: pkts, skipMaps: []string{"jt"}})
		})
	}
}
