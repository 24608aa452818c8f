package object_test

import (
	"fmt"

	"github.com/bpfhost/bpfhost/object"
)

func ExampleLoad() {
	spec, err := object.Load("testdata/prog.o")
	if err != nil {
		fmt.Println(err)
		return
	}
	p := spec.Program("xdp_count")
	fmt.Println(p.Name, p.Section, len(p.Functions), "functions")
	for _, r := range p.References {
		fmt.Printf("slot %d: %s %s+%d (%s) at %s\n", r.Slot, r.Kind, r.Name, r.Offset, r.Variable, p.Line(r.Slot))
	}
	if err := spec.SetConstant("cfg_port", uint32(8080)); err != nil {
		fmt.Println(err)
	}
	fmt.Printf(".rodata: % x\n", spec.Map(".rodata").Data)
	// Output:
	// xdp_count xdp 2 functions
	// slot 6: map counts+0 () at prog.c:113
	// slot 16: map counts+0 () at prog.c:117
	// slot 20: map value .data+0 (packets) at prog.c:118
	// slot 35: map value .rodata+0 (cfg_port) at prog.c:98
	// .rodata: 90 1f 00 00 02
}
