package linux_test

import (
	"fmt"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// The verifier resolves the program type from the section, checks each
// context access, and reports which instructions touched the context; the
// runtime rewrites those to the host layout.
func Example() {
	p, _ := linux.Lookup("xdp")
	fmt.Println(p, p.Return, linux.HelperName(linux.FnXdpAdjustHead), p.Helpers.Has(linux.FnXdpAdjustHead))

	f, err := p.Context.Check(4, 4, false) // ldxw rX, [r1+4]
	fmt.Println(f.Name, f.Kind, err)
	_, err = p.Context.Check(12, 2, false) // narrow load of ingress_ifindex
	fmt.Println(err)

	prog, _ := isa.Assemble(`
		ldxw %r2, [%r1+0]
		ldxw %r3, [%r1+4]
		ldxw %r4, [%r1+12]
		mov %r0, 2
		exit`)
	host, _ := platform.Rewrite(prog, p.Context, []int{0, 1, 2})
	fmt.Print(isa.Disassemble(host[:3]))
	// Output:
	// xdp <nil> bpf_xdp_adjust_head true
	// data_end packet_end <nil>
	// invalid context access: xdp_md: 2-byte read at offset 12: field ingress_ifindex allows 4-byte reads
	// ldxdw %r2, [%r1]
	// ldxdw %r3, [%r1+8]
	// ldxw %r4, [%r1+24]
}
