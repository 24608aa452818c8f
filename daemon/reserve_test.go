package daemon

import (
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/daemon/api"
)

// TestReserveSaturatedSizes: a map whose memory estimate saturates (sizes
// no map can have, as a client's map create may ask) is refused by the
// budget, E2BIG, and leaves it as it was: the estimate, 1<<63, is negative
// as an int64 and once passed as a credit.
func TestReserveSaturatedSizes(t *testing.T) {
	d := newTestDaemon(t, "")
	defer d.Close()
	for _, typ := range []bpfhost.MapType{bpfhost.MapHash, bpfhost.MapPerCPUHash, bpfhost.MapLRUHash} {
		ms := &bpfhost.MapSpec{Name: "huge", Type: uint32(typ), KeySize: 0xffffffff, ValueSize: 0xffffffff, MaxEntries: 0xffffffff}
		d.mu.Lock()
		before := d.memUsed
		mem, err := d.reserve(createdSpec(ms), unitMeta{Slots: 2})
		after := d.memUsed
		d.mu.Unlock()
		if CodeOf(err) != api.CodeTooBig || err == nil || mem != 0 || after != before {
			t.Errorf("%v: reserve = %d, %v (%s); budget used %d -> %d, want E2BIG and no change", typ, mem, err, CodeOf(err), before, after)
		}
	}
}
