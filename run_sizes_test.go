package bpfhost_test

import (
	"errors"
	"testing"

	"github.com/bpfhost/bpfhost"
)

// TestXDPRunSizes: an XDP test run takes 14 to 3520 bytes in one page and
// up to 17 more pages in fragments (XDP multi-buffer, decision 0044); a
// shorter packet is bad input (Linux: EINVAL), and so is a longer one
// (Linux: ENOMEM).
func TestXDPRunSizes(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("testdata/cli/printk.o")
	if err != nil {
		t.Fatal(err)
	}
	coll, err := bpfhost.NewCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	p := coll.Programs["xdp_printk"]
	for _, tt := range []struct {
		size          int
		invalid, nsup bool
	}{{13, true, false}, {14, false, false}, {3520, false, false}, {3521, false, false}, {73152, false, false}, {73153, true, false}} {
		ret, out, err := p.Test(make([]byte, tt.size))
		switch {
		case errors.Is(err, bpfhost.ErrInvalid) != tt.invalid || errors.Is(err, bpfhost.ErrNotSupported) != tt.nsup:
			t.Errorf("%d bytes: %v; want invalid %v, not supported %v", tt.size, err, tt.invalid, tt.nsup)
		case err == nil && (ret != 2 || len(out) != tt.size):
			t.Errorf("%d bytes: retval %d, %d bytes out", tt.size, ret, len(out))
		}
	}
}
