package platform

import (
	"fmt"
	"strings"
)

// ABI is one platform's binary interface: its program types and how ELF
// sections select them, its helper prototypes and its map types. Build one
// with NewABI; it is read-only afterwards and safe for concurrent use. The
// descriptors it returns are shared, not copies: callers must not modify
// them (or the helper sets and field slices inside them).
type ABI struct {
	// Name is the platform's name, e.g. "linux".
	Name string

	programs []*ProgramTypeInfo
	sections []Section
	helpers  []*HelperProto
	maps     []*MapTypeInfo
	kfuncs   []*KfuncProto

	kfuncByID    map[KfuncID]*KfuncProto
	kfuncByName  map[string]*KfuncProto
	helperByID   map[HelperID]*HelperProto
	helperByName map[string]*HelperProto
	mapByType    map[MapType]*MapTypeInfo
	mapByName    map[string]*MapTypeInfo
	typeNames    map[ProgramType]string
}

// NewABI indexes and validates the tables: every descriptor and prototype
// must be consistent, IDs and names unique, section patterns unique and
// pointing at listed program types, and every helper a program type allows
// must have a prototype. Errors wrap ErrInvalidDescriptor.
func NewABI(name string, programs []*ProgramTypeInfo, sections []Section, helpers []*HelperProto, maps []*MapTypeInfo) (*ABI, error) {
	a := &ABI{
		Name:         name,
		programs:     programs,
		sections:     sections,
		helpers:      helpers,
		maps:         maps,
		helperByID:   make(map[HelperID]*HelperProto, len(helpers)),
		helperByName: make(map[string]*HelperProto, len(helpers)),
		mapByType:    make(map[MapType]*MapTypeInfo, len(maps)),
		mapByName:    make(map[string]*MapTypeInfo, len(maps)),
		typeNames:    make(map[ProgramType]string),
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: ABI %s: %s", ErrInvalidDescriptor, name, fmt.Sprintf(format, args...))
	}
	for _, h := range helpers {
		if err := h.Validate(); err != nil {
			return nil, err
		}
		if _, dup := a.helperByID[h.ID]; dup {
			return nil, bad("helper ID %d appears twice", h.ID)
		}
		if _, dup := a.helperByName[h.Name]; dup {
			return nil, bad("helper name %s appears twice", h.Name)
		}
		a.helperByID[h.ID] = h
		a.helperByName[h.Name] = h
	}
	for _, m := range maps {
		if _, dup := a.mapByType[m.Type]; dup {
			return nil, bad("map type %d appears twice", m.Type)
		}
		if _, dup := a.mapByName[m.Name]; dup {
			return nil, bad("map type name %s appears twice", m.Name)
		}
		a.mapByType[m.Type] = m
		a.mapByName[m.Name] = m
	}
	listed := make(map[*ProgramTypeInfo]bool, len(programs))
	variants := make(map[string]bool)
	checked := make(map[*ContextDescriptor]bool)
	for _, p := range programs {
		if n, ok := a.typeNames[p.Type]; ok && n != p.Name {
			return nil, bad("program type %d is called both %s and %s", p.Type, n, p.Name)
		}
		a.typeNames[p.Type] = p.Name
		if variants[p.String()] {
			return nil, bad("program type variant %s appears twice", p)
		}
		variants[p.String()] = true
		listed[p] = true
		if p.Context == nil && len(p.Entry) == 0 {
			return nil, bad("program type %s has neither a context nor entry registers", p)
		}
		if err := validateTree(p.Context, checked); err != nil {
			return nil, err
		}
		for _, id := range p.Helpers.IDs() {
			if _, ok := a.helperByID[id]; !ok {
				return nil, bad("program type %s allows helper %d, which has no prototype", p, id)
			}
		}
		if p.Return != nil && p.Return.Min > p.Return.Max {
			return nil, bad("program type %s: empty return range %s", p, p.Return)
		}
	}
	patterns := make(map[string]bool, len(sections))
	for _, s := range sections {
		if patterns[s.Pattern] {
			return nil, bad("section pattern %q appears twice", s.Pattern)
		}
		patterns[s.Pattern] = true
		if !listed[s.Program] {
			return nil, bad("section pattern %q selects a program type that is not listed", s.Pattern)
		}
	}
	for _, h := range helpers {
		if err := validateTree(h.RetStruct, checked); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func validateTree(d *ContextDescriptor, checked map[*ContextDescriptor]bool) error {
	if d == nil || checked[d] {
		return nil
	}
	checked[d] = true
	if err := d.Validate(); err != nil {
		return err
	}
	for i := range d.Fields {
		if err := validateTree(d.Fields[i].Target, checked); err != nil {
			return err
		}
	}
	return nil
}

// Programs returns every program type variant, in table order.
func (a *ABI) Programs() []*ProgramTypeInfo { return a.programs }

// Sections returns the section patterns, in table order.
func (a *ABI) Sections() []Section { return a.sections }

// Helpers returns every helper prototype, in table order.
func (a *ABI) Helpers() []*HelperProto { return a.helpers }

// MapTypes returns every map type, in table order.
func (a *ABI) MapTypes() []*MapTypeInfo { return a.maps }

// MatchSection finds the section entry for an ELF section name. It applies
// libbpf's rules (see Section) and, when several patterns match, prefers the
// longest, which is what libbpf's table order achieves. When none matches it
// falls back to the pre-1.0 libbpf rule for the patterns marked Prefix: the
// longest such pattern that begins the section name ("xdp_redirect" ->
// "xdp"); legacy reports that. Patterns that begin the same name are
// prefixes of one another, so the longest is the most specific one, as in
// libbpf's table order; should two of them ever select different program
// types, the name is ambiguous and nothing matches.
func (a *ABI) MatchSection(name string) (s *Section, legacy bool, ok bool) {
	best := -1
	for i := range a.sections {
		if a.sections[i].Matches(name) && (best < 0 || len(a.sections[i].Pattern) > len(a.sections[best].Pattern)) {
			best = i
		}
	}
	if best >= 0 {
		return &a.sections[best], false, true
	}
	for i := range a.sections {
		if a.sections[i].legacyMatches(name) && (best < 0 || len(a.sections[i].Pattern) > len(a.sections[best].Pattern)) {
			best = i
		}
	}
	if best < 0 {
		return nil, false, false
	}
	for i := range a.sections {
		if a.sections[i].legacyMatches(name) && a.sections[i].Program.Type != a.sections[best].Program.Type {
			return nil, false, false
		}
	}
	return &a.sections[best], true, true
}

// Lookup returns the program type variant an ELF section name selects (see
// MatchSection).
func (a *ABI) Lookup(section string) (*ProgramTypeInfo, bool) {
	s, _, ok := a.MatchSection(section)
	if !ok {
		return nil, false
	}
	return s.Program, true
}

// ByName resolves a --type argument: a program type name ("xdp",
// "socket_filter", "sched_cls"), a type and variant ("cgroup_sock_addr/connect4"),
// or, failing those, a section name ("cgroup/connect4", "tc"), as bpftool
// accepts. A bare type name selects the type's first (default) variant.
func (a *ABI) ByName(name string) (*ProgramTypeInfo, bool) {
	for _, p := range a.programs {
		if p.Name == name || p.String() == name {
			return p, true
		}
	}
	return a.Lookup(name)
}

// ByType returns the variant for a program type and expected attach type,
// as a loader that knows both (from a cilium/ebpf ProgramSpec, say) asks.
// If no variant has that attach type, the type's default variant is
// returned when attach is 0.
func (a *ABI) ByType(t ProgramType, attach AttachType) (*ProgramTypeInfo, bool) {
	var first *ProgramTypeInfo
	for _, p := range a.programs {
		if p.Type != t {
			continue
		}
		if p.AttachName != "" && p.Attach == attach {
			return p, true
		}
		if first == nil {
			first = p
		}
	}
	if first != nil && (attach == 0 || first.AttachName == "") {
		return first, true
	}
	return nil, false
}

// ProgramTypeName returns the name of a program type number, or its number.
func (a *ABI) ProgramTypeName(t ProgramType) string {
	if n, ok := a.typeNames[t]; ok {
		return n
	}
	return t.String()
}

// HelperByID returns a helper's prototype.
func (a *ABI) HelperByID(id HelperID) (*HelperProto, bool) {
	h, ok := a.helperByID[id]
	return h, ok
}

// HelperByName returns a helper's prototype by name, with or without the
// "bpf_" prefix.
func (a *ABI) HelperByName(name string) (*HelperProto, bool) {
	if h, ok := a.helperByName[name]; ok {
		return h, true
	}
	if !strings.HasPrefix(name, "bpf_") {
		h, ok := a.helperByName["bpf_"+name]
		return h, ok
	}
	return nil, false
}

// HelperName returns a helper's name, or "helper#N" if it is unknown.
func (a *ABI) HelperName(id HelperID) string {
	if h, ok := a.helperByID[id]; ok {
		return h.Name
	}
	return id.String()
}

// AddKfuncs indexes and validates the kfunc table while the ABI is being
// built, before it is shared: IDs and names must be unique, and a kfunc's
// name must not be a helper's. Errors wrap ErrInvalidDescriptor.
func (a *ABI) AddKfuncs(kfuncs []*KfuncProto) error {
	if a.kfuncByID == nil {
		a.kfuncByID = make(map[KfuncID]*KfuncProto, len(kfuncs))
		a.kfuncByName = make(map[string]*KfuncProto, len(kfuncs))
	}
	for _, k := range kfuncs {
		if err := k.Validate(); err != nil {
			return err
		}
		_, dupID := a.kfuncByID[k.ID]
		_, dupName := a.kfuncByName[k.Name]
		_, helper := a.helperByName[k.Name]
		if dupID || dupName || helper {
			return fmt.Errorf("%w: ABI %s: kfunc %s appears twice", ErrInvalidDescriptor, a.Name, k)
		}
		a.kfuncByID[k.ID] = k
		a.kfuncByName[k.Name] = k
		a.kfuncs = append(a.kfuncs, k)
	}
	return nil
}

// Kfuncs returns every kfunc prototype, in table order.
func (a *ABI) Kfuncs() []*KfuncProto { return a.kfuncs }

// KfuncByName returns a kfunc's prototype by its full name.
func (a *ABI) KfuncByName(name string) (*KfuncProto, bool) {
	k, ok := a.kfuncByName[name]
	return k, ok
}

// KfuncByID returns a kfunc's prototype by the runtime's number.
func (a *ABI) KfuncByID(id KfuncID) (*KfuncProto, bool) {
	k, ok := a.kfuncByID[id]
	return k, ok
}

// MapType returns a map type's description.
func (a *ABI) MapType(t MapType) (*MapTypeInfo, bool) {
	m, ok := a.mapByType[t]
	return m, ok
}

// MapTypeByName returns a map type's description by name ("hash").
func (a *ABI) MapTypeByName(name string) (*MapTypeInfo, bool) {
	m, ok := a.mapByName[name]
	return m, ok
}

// MapTypeName returns a map type's name, or "map_type#N".
func (a *ABI) MapTypeName(t MapType) string {
	if m, ok := a.mapByType[t]; ok {
		return m.Name
	}
	return t.String()
}
