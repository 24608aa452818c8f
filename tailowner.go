package bpfhost

import (
	"fmt"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform"
)

// A program array's programs tail-call each other with the context of
// the program that started the run, so they must all share its layout: a
// tc program tail-called from XDP would read its __sk_buff fields (packet
// pointers, the socket) from past the end of the host xdp_md. As Linux's
// bpf_prog_map_compatible, the first program that uses an array or is
// stored in it makes its kind the array's owner (maps.HandleArrayMap.Own),
// and programs of another kind can neither use it nor be stored in it.

// tailKind is a program array's owner: the program type and the host
// layout of its context.
type tailKind struct {
	typ  platform.ProgramType
	host *platform.HostLayout
}

func kindOf(info *platform.ProgramTypeInfo) tailKind {
	k := tailKind{typ: info.Type}
	if info.Context != nil {
		k.host = info.Context.Host
	}
	return k
}

// own claims program array m for p's kind; an array of another kind is
// an error.
func (m *Map) own(p *Program) error {
	return m.ownBy(p.name, p.info)
}

// ownBy claims m, if it is a program array, for the kind of program name
// of type info.
func (m *Map) ownBy(name string, info *platform.ProgramTypeInfo) error {
	pa, ok := m.m.(*maps.HandleArrayMap)
	if !ok || m.spec.Type != maps.ProgramArray {
		return nil
	}
	if !pa.Own(kindOf(info)) {
		return fmt.Errorf("%w: program array %q holds programs of another type than %s program %q (tail calls keep the context)", ErrInvalid, m.name, info.Name, name)
	}
	return nil
}
