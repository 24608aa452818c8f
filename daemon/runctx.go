package daemon

import (
	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/daemon/api"
)

// runContext sizes a caller's ctx_in as Linux's bpf_ctx_init does for the
// test runs of XDP and skb programs: a shorter context is the start of the
// struct (the rest zero), a longer one is accepted if the bytes beyond the
// struct are zero (else E2BIG, as bpf_check_uarg_tail_zero). bpftool users give "ctx_in" files of just
// the fields they set; the root package takes a context of the struct's
// size only. Other program types get ctx_in as it is.
func runContext(p *bpfhost.Program, in []byte) ([]byte, error) {
	size := 0
	// (By the kind's name: the daemon does not import platform.)
	if info := p.TypeInfo(); info.Context != nil {
		switch info.TestRun.String() {
		case "xdp", "skb": // the context is xdp_md or __sk_buff
			size = info.Context.Size
		}
	}
	if size == 0 || len(in) == size {
		return in, nil
	}
	if len(in) > size {
		for _, b := range in[size:] {
			if b != 0 {
				return nil, errorf(api.CodeTooBig, "ctx_in: %d bytes, and those after the first %d (the %s context) are not zero", len(in), size, p.Type())
			}
		}
		return in[:size], nil
	}
	out := make([]byte, size)
	copy(out, in)
	return out, nil
}
