package platform

import (
	"errors"
	"strings"
	"testing"
)

func testABI(t *testing.T) (*ABI, map[string]*ProgramTypeInfo) {
	t.Helper()
	ctx := testCtx()
	p := map[string]*ProgramTypeInfo{
		"socket":   {Type: 1, Name: "socket_filter", Context: ctx, Helpers: NewHelperSet(1)},
		"kprobe":   {Type: 2, Name: "kprobe", Context: ctx},
		"xdp":      {Type: 6, Name: "xdp", Attach: 37, AttachName: "xdp", Context: ctx},
		"devmap":   {Type: 6, Name: "xdp", Attach: 33, AttachName: "xdp_devmap", Variant: "devmap", Context: ctx},
		"ingress":  {Type: 8, Name: "cgroup_skb", Attach: 0, AttachName: "cgroup_inet_ingress", Variant: "ingress", Context: ctx},
		"egress":   {Type: 8, Name: "cgroup_skb", Attach: 1, AttachName: "cgroup_inet_egress", Variant: "egress", Context: ctx},
		"tracing":  {Type: 26, Name: "tracing", Context: ctx},
		"uprobe_m": {Type: 2, Name: "kprobe", Attach: 48, AttachName: "trace_uprobe_multi", Variant: "uprobe.multi", Context: ctx},
	}
	programs := []*ProgramTypeInfo{p["socket"], p["kprobe"], p["uprobe_m"], p["xdp"], p["devmap"], p["ingress"], p["egress"], p["tracing"]}
	sections := []Section{
		{Pattern: "socket", Program: p["socket"], Prefix: true},
		{Pattern: "kprobe+", Program: p["kprobe"]},
		{Pattern: "uprobe+", Program: p["kprobe"]},
		{Pattern: "uprobe.multi+", Program: p["uprobe_m"]},
		{Pattern: "xdp", Program: p["xdp"], Prefix: true},
		{Pattern: "xdp/devmap", Program: p["devmap"]},
		{Pattern: "cgroup_skb/ingress", Program: p["ingress"]},
		{Pattern: "cgroup_skb/egress", Program: p["egress"]},
		{Pattern: "fentry/", Program: p["tracing"]},
	}
	helpers := []*HelperProto{
		{ID: 1, Name: "bpf_map_lookup_elem", Args: [5]ArgKind{ArgConstMapPtr, ArgMapKey}, Ret: RetMapValueOrNull},
	}
	maps := []*MapTypeInfo{{Type: 1, Name: "hash", Ops: MapLookup, Lookup: LookupValue}}
	a, err := NewABI("test", programs, sections, helpers, maps)
	if err != nil {
		t.Fatal(err)
	}
	return a, p
}

func TestMatchSection(t *testing.T) {
	a, p := testABI(t)
	tests := []struct {
		name   string
		want   string // key in p, "" for no match
		legacy bool
	}{
		{"socket", "socket", false},
		{"socket/foo", "socket", true}, // exact pattern: only the legacy rule matches
		{"socket1", "socket", true},
		{"kprobe", "kprobe", false},
		{"kprobe/do_sys_open", "kprobe", false},
		{"kprobex", "", false}, // "kprobe+" is not a Prefix pattern: old libbpf wanted "kprobe/"
		{"uprobe/bin:main", "kprobe", false},
		{"uprobe.multi/bin:*", "uprobe_m", false},
		{"uprobe.multi", "uprobe_m", false},
		{"xdp", "xdp", false},
		{"xdp/devmap", "devmap", false},
		{"xdp_redirect", "xdp", true},
		{"xdp/devmapx", "xdp", true}, // only "xdp" is a Prefix pattern
		{"cgroup_skb/egress", "egress", false},
		{"fentry/tcp_connect", "tracing", false},
		{"fentry", "", false}, // "fentry/" requires the slash
		{"tc", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		s, legacy, ok := a.MatchSection(tt.name)
		switch {
		case tt.want == "" && ok:
			t.Errorf("MatchSection(%q) = %q, want no match", tt.name, s.Pattern)
		case tt.want != "" && !ok:
			t.Errorf("MatchSection(%q): no match, want %s", tt.name, p[tt.want])
		case tt.want != "" && (s.Program != p[tt.want] || legacy != tt.legacy):
			t.Errorf("MatchSection(%q) = %s (legacy %v), want %s (legacy %v)", tt.name, s.Program, legacy, p[tt.want], tt.legacy)
		}
	}
}

// TestMatchSectionAmbiguous checks that a name two Prefix patterns of
// different program types begin selects neither.
func TestMatchSectionAmbiguous(t *testing.T) {
	ctx := testCtx()
	sock := &ProgramTypeInfo{Type: 1, Name: "socket_filter", Context: ctx}
	ops := &ProgramTypeInfo{Type: 13, Name: "sock_ops", Context: ctx}
	a, err := NewABI("test", []*ProgramTypeInfo{sock, ops}, []Section{
		{Pattern: "sock", Program: sock, Prefix: true},
		{Pattern: "sockops", Program: ops, Prefix: true},
		{Pattern: "socket", Program: sock, Prefix: true},
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s, legacy, ok := a.MatchSection("sockops_1"); ok {
		t.Errorf("sockops_1 matched %q (legacy %v), want ambiguous", s.Pattern, legacy)
	}
	if s, legacy, ok := a.MatchSection("socket_1"); !ok || s.Pattern != "socket" || !legacy {
		t.Errorf("socket_1: got %v %v %v, want socket by prefix", s, legacy, ok)
	}
}

func TestByNameByType(t *testing.T) {
	a, p := testABI(t)
	for name, want := range map[string]string{
		"xdp": "xdp", "xdp/devmap": "devmap", "cgroup_skb": "ingress", "cgroup_skb/egress": "egress",
		"socket_filter": "socket", "socket": "socket", "kprobe/foo": "kprobe",
	} {
		if got, ok := a.ByName(name); !ok || got != p[want] {
			t.Errorf("ByName(%q) = %v, %v; want %s", name, got, ok, p[want])
		}
	}
	if _, ok := a.ByName("nonsense"); ok {
		t.Error("ByName(nonsense) matched")
	}
	for _, tt := range []struct {
		typ    ProgramType
		attach AttachType
		want   string
	}{
		{6, 37, "xdp"}, {6, 33, "devmap"}, {6, 0, "xdp"}, {8, 0, "ingress"}, {8, 1, "egress"},
		{2, 0, "kprobe"}, {2, 48, "uprobe_m"}, {1, 0, "socket"},
	} {
		if got, ok := a.ByType(tt.typ, tt.attach); !ok || got != p[tt.want] {
			t.Errorf("ByType(%d, %d) = %v, %v; want %s", tt.typ, tt.attach, got, ok, p[tt.want])
		}
	}
	if got, ok := a.ByType(6, 99); ok {
		t.Errorf("ByType(xdp, 99) = %s, want no match", got)
	}
	if a.ProgramTypeName(8) != "cgroup_skb" || a.ProgramTypeName(99) != "prog_type#99" {
		t.Error("ProgramTypeName")
	}
	if h, ok := a.HelperByName("map_lookup_elem"); !ok || h.ID != 1 {
		t.Error("HelperByName without prefix")
	}
	if a.HelperName(1) != "bpf_map_lookup_elem" || a.HelperName(7) != "helper#7" {
		t.Error("HelperName")
	}
	if m, ok := a.MapTypeByName("hash"); !ok || a.MapTypeName(m.Type) != "hash" || a.MapTypeName(2) != "map_type#2" {
		t.Error("map type names")
	}
}

func TestNewABIRejects(t *testing.T) {
	ctx := testCtx()
	good := &ProgramTypeInfo{Type: 1, Name: "a", Context: ctx}
	lookup := &HelperProto{ID: 1, Name: "bpf_map_lookup_elem", Args: [5]ArgKind{ArgConstMapPtr, ArgMapKey}, Ret: RetMapValueOrNull}
	tests := []struct {
		name     string
		programs []*ProgramTypeInfo
		sections []Section
		helpers  []*HelperProto
		maps     []*MapTypeInfo
		want     string
	}{
		{"duplicate helper", []*ProgramTypeInfo{good}, nil, []*HelperProto{lookup, lookup}, nil, "appears twice"},
		{"unknown helper", []*ProgramTypeInfo{{Type: 1, Name: "a", Context: ctx, Helpers: NewHelperSet(9)}}, nil, nil, nil, "no prototype"},
		{"two names", []*ProgramTypeInfo{good, {Type: 1, Name: "b", Variant: "v", Context: ctx}}, nil, nil, nil, "called both"},
		{"duplicate variant", []*ProgramTypeInfo{good, {Type: 1, Name: "a", Context: ctx}}, nil, nil, nil, "appears twice"},
		{"no context", []*ProgramTypeInfo{{Type: 1, Name: "a"}}, nil, nil, nil, "neither"},
		{"unlisted section", []*ProgramTypeInfo{good}, []Section{{Pattern: "x", Program: &ProgramTypeInfo{}}}, nil, nil, "not listed"},
		{"duplicate section", []*ProgramTypeInfo{good}, []Section{{Pattern: "x", Program: good}, {Pattern: "x", Program: good}}, nil, nil, "twice"},
		{"duplicate map", []*ProgramTypeInfo{good}, nil, nil, []*MapTypeInfo{{Type: 1, Name: "a"}, {Type: 1, Name: "b"}}, "twice"},
		{"bad context", []*ProgramTypeInfo{{Type: 1, Name: "a", Context: &ContextDescriptor{Name: "bad"}}}, nil, nil, nil, "size 0"},
		{"empty return", []*ProgramTypeInfo{{Type: 1, Name: "a", Context: ctx, Return: &Range{Min: 2, Max: 1}}}, nil, nil, nil, "empty return"},
	}
	for _, tt := range tests {
		_, err := NewABI("t", tt.programs, tt.sections, tt.helpers, tt.maps)
		if !errors.Is(err, ErrInvalidDescriptor) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want ErrInvalidDescriptor mentioning %q", tt.name, err, tt.want)
		}
	}
}

func TestHelperProtoValidate(t *testing.T) {
	tests := []struct {
		name string
		p    HelperProto
		want string // "" = valid
	}{
		{"ok", HelperProto{Name: "f", Args: [5]ArgKind{ArgCtx, ArgAnything, ArgMem, ArgConstSize}}, ""},
		{"gap", HelperProto{Name: "f", Args: [5]ArgKind{ArgCtx, ArgNone, ArgAnything}}, "unused"},
		{"mem without size", HelperProto{Name: "f", Args: [5]ArgKind{ArgMem, ArgAnything}}, "not followed by a size"},
		{"size without mem", HelperProto{Name: "f", Args: [5]ArgKind{ArgAnything, ArgConstSize}}, "does not follow"},
		{"fixed without size", HelperProto{Name: "f", Args: [5]ArgKind{ArgFixedMem}}, "without a size"},
		{"callback mismatch", HelperProto{Name: "f", Args: [5]ArgKind{ArgAnything, ArgFunc}}, "callback"},
		{"release out of range", HelperProto{Name: "f", Args: [5]ArgKind{ArgAnything}, Release: 2}, "releases"},
		{"ringbuf without acquire", HelperProto{Name: "f", Args: [5]ArgKind{ArgConstMapPtr, ArgConstAllocSizeOrZero}, Ret: RetRingbufMemOrNull}, "acquiring"},
		{"no name", HelperProto{}, "no name"},
	}
	for _, tt := range tests {
		err := tt.p.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	p := HelperProto{ID: 4, Name: "bpf_x", Args: [5]ArgKind{ArgCtx, ArgAnything}}
	if p.NumArgs() != 2 || p.String() != "bpf_x#4" {
		t.Errorf("NumArgs %d, String %q", p.NumArgs(), p.String())
	}
}

func TestHelperSet(t *testing.T) {
	s := NewHelperSet(3, 1, 2)
	u := s.Union(NewHelperSet(7)).Without(2)
	if !u.Has(7) || u.Has(2) || !s.Has(2) {
		t.Error("Union/Without")
	}
	if got := u.String(); got != "{1 3 7}" {
		t.Errorf("String = %q", got)
	}
}

func TestMapTypeInfo(t *testing.T) {
	m := &MapTypeInfo{Type: 22, Name: "queue", KeySizes: []int{0}}
	if !m.KeySizeOK(0) || m.KeySizeOK(4) || !m.ValueSizeOK(8) || m.ValueSizeOK(0) {
		t.Error("size rules")
	}
	if (MapLookup|MapUpdate).String() != "lookup|update" || MapOps(0).String() != "-" {
		t.Error("MapOps.String")
	}
}
