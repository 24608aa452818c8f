package verifier

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// The PREVAIL YAML runner: each case gives a pre-state, code and the
// expected messages (and post-state). Our verdict (accept iff PREVAIL
// expects no error message) must agree except on the cases listed, with
// the reason, in testdata/prevail-disagreements.md.

type yamlCase struct {
	Name     string    `yaml:"test-case"`
	Options  []string  `yaml:"options"`
	Pre      []string  `yaml:"pre"`
	Code     yaml.Node `yaml:"code"`
	Post     []string  `yaml:"post"`
	Messages []string  `yaml:"messages"`
}

const yamlDir = "../../shared/verifier-yaml/test-data"

// yamlContext is the test harness's context: 64 bytes, data at 0, data_end
// at 4, the rest plain read-write data.
var yamlContext = &platform.ContextDescriptor{
	Name: "yaml_ctx", Size: 64,
	Fields: []platform.ContextField{
		{Name: "data", Offset: 0, Size: 4, Kind: platform.FieldPacketData, Access: platform.Read, ReadSizes: platform.Size4},
		{Name: "data_end", Offset: 4, Size: 4, Kind: platform.FieldPacketEnd, Access: platform.Read, ReadSizes: platform.Size4},
		{Name: "rest", Offset: 8, Size: 56, Access: platform.Read | platform.Write, ReadSizes: platform.AnySize, WriteSizes: platform.AnySize},
	},
}

func yamlType() *platform.ProgramTypeInfo {
	all := platform.HelperSet{}
	for _, h := range linux.ABI().Helpers() {
		all[h.ID] = struct{}{}
	}
	return &platform.ProgramTypeInfo{Name: "socket_filter", Context: yamlContext, Helpers: all, PacketAccess: platform.Read | platform.Write}
}

// expectReject: PREVAIL reports an error (messages that only say code is
// unreachable are not errors).
func (c *yamlCase) expectReject() bool {
	for _, m := range c.Messages {
		if !strings.Contains(m, "Code becomes unreachable") {
			return true
		}
	}
	return false
}

func (c *yamlCase) option(o string) bool {
	for _, x := range c.Options {
		if x == o {
			return true
		}
	}
	return false
}

func (c *yamlCase) blocks() []asmBlock {
	var out []asmBlock
	for i := 0; i+1 < len(c.Code.Content); i += 2 {
		label := strings.Trim(c.Code.Content[i].Value, "<>")
		out = append(out, asmBlock{label: label, lines: strings.Split(c.Code.Content[i+1].Value, "\n")})
	}
	return out
}

var (
	reCons  = regexp.MustCompile(`^r(\d+)\.(\w+)=(.*)$`)
	reStack = regexp.MustCompile(`^s\[(\d+)(?:\.\.\.(\d+))?\]\.(\w+)=(.*)$`)
	reRange = regexp.MustCompile(`^\[(-?\d+),\s*(-?\d+|\+oo)\]$`)
)

func parseRange(s string) (int64, int64, bool) {
	if m := reRange.FindStringSubmatch(s); m != nil {
		lo, _ := strconv.ParseInt(m[1], 10, 64)
		hi := int64(math.MaxInt64)
		if m[2] != "+oo" {
			hi, _ = strconv.ParseInt(m[2], 10, 64)
		}
		return lo, hi, true
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, v, true
	}
	if v, err := strconv.ParseUint(s, 10, 64); err == nil {
		return int64(v), int64(v), true
	}
	return 0, 0, false
}

// yamlMaps are the harness's maps: 4-byte keys and values, 4 entries;
// the second is a program array.
func yamlMaps() []MapInfo {
	maps := make([]MapInfo, 8)
	for i := range maps {
		maps[i] = MapInfo{Name: fmt.Sprintf("map%d", i), Type: platform.MapType(1 << 20), KeySize: 4, ValueSize: 4, MaxEntries: 4}
	}
	return maps
}

// applyPre builds the entry state from the pre-conditions.
func applyPre(pre []string) func(s *state, a *analyzer) {
	return func(s *state, a *analyzer) {
		for r := 0; r < 10; r++ {
			s.setUninit(r)
		}
		s.set(10, value{kind: kStack}, constIval(0))
		type regInfo struct {
			typ              string
			svalue, uvalue   [2]int64
			hasS, hasU       bool
			off              [2]int64
			hasOff, offIsPkt bool
			size             int64
			mapFD            int64
		}
		regs := map[int]*regInfo{}
		get := func(r int) *regInfo {
			if regs[r] == nil {
				regs[r] = &regInfo{size: -1, mapFD: -1}
			}
			return regs[r]
		}
		var stackNum [][2]int
		for _, c := range pre {
			c = strings.TrimSpace(c)
			if m := reCons.FindStringSubmatch(c); m != nil {
				r, _ := strconv.Atoi(m[1])
				ri := get(r)
				val := strings.TrimSpace(m[3])
				lo, hi, ok := parseRange(val)
				switch m[2] {
				case "type":
					ri.typ = val
				case "svalue":
					if ok {
						ri.svalue, ri.hasS = [2]int64{lo, hi}, true
					}
				case "uvalue":
					if ok {
						ri.uvalue, ri.hasU = [2]int64{lo, hi}, true
					}
				case "stack_offset", "ctx_offset", "packet_offset", "shared_offset":
					if ok {
						ri.off, ri.hasOff = [2]int64{lo, hi}, true
					} else if val == "packet_size" {
						ri.offIsPkt = true
					}
				case "shared_region_size":
					ri.size = lo
				case "map_fd":
					ri.mapFD = lo
				}
				continue
			}
			if m := reStack.FindStringSubmatch(c); m != nil && m[3] == "type" && m[4] == "number" {
				lo, _ := strconv.Atoi(m[1])
				hi := lo
				if m[2] != "" {
					hi, _ = strconv.Atoi(m[2])
				}
				stackNum = append(stackNum, [2]int{lo, hi})
				continue
			}
			if v, ok := strings.CutPrefix(c, "packet_size="); ok {
				if lo, hi, ok := parseRange(v); ok {
					s.z.setBounds(locPkt, lo, hi)
				}
			}
			if v, ok := strings.CutPrefix(c, "meta_offset="); ok {
				if lo, hi, ok := parseRange(v); ok {
					s.z.setBounds(locMeta, lo, hi)
				}
			}
		}
		// Stack bytes the pre-state does not call numbers may hold
		// anything, pointers included (not the zeroes a run starts with:
		// see uninit.go).
		s.frames[0].ptr.setRange(0, frameSize, true)
		for _, sn := range stackNum {
			f := s.frames[0]
			f.init.setRange(max(sn[0], 0), min(sn[1]+1, frameSize), true)
			f.ptr.setRange(max(sn[0], 0), min(sn[1]+1, frameSize), false)
		}
		// In register order: shared regions get map ids as they are met,
		// and messages name them.
		for r := range 10 {
			ri := regs[r]
			if ri == nil {
				continue
			}
			off := ri.off
			if !ri.hasOff {
				off = [2]int64{0, 0}
			}
			switch ri.typ {
			case "number":
				iv := topIval
				if ri.hasS {
					iv = iv.meet(srange(ri.svalue[0], ri.svalue[1]))
				}
				if ri.hasU && ri.uvalue[0] >= 0 {
					hi := uint64(ri.uvalue[1])
					if ri.uvalue[1] == math.MaxInt64 {
						hi = math.MaxUint64
					}
					iv = iv.meet(urange(uint64(ri.uvalue[0]), hi))
				}
				if iv.empty() {
					iv = topIval
				}
				s.set(r, value{kind: kScalar}, iv)
			case "ctx":
				s.set(r, value{kind: kCtx}, srange(off[0], off[1]))
			case "stack":
				if !ri.hasOff {
					s.set(r, value{kind: kStack}, srange(-512, 0))
				} else {
					s.set(r, value{kind: kStack}, srange(off[0]-512, off[1]-512))
				}
			case "packet":
				if ri.offIsPkt {
					s.regs[r] = value{kind: kPacket}
					s.z.copyLoc(locReg(r), locPkt)
				} else {
					s.set(r, value{kind: kPacket}, srange(off[0], off[1]))
				}
			case "shared":
				size := ri.size
				if size < 0 {
					size = 0
				}
				m := &MapInfo{Name: fmt.Sprintf("shared%d", r), ValueSize: uint32(size)}
				null := !ri.hasS || ri.svalue[0] <= 0
				s.set(r, value{kind: kMapValue, region: a.mapID(m), null: null, id: int32(100 + r)}, srange(off[0], off[1]))
			case "map_fd":
				fd := ri.mapFD
				if fd < 0 || fd >= int64(len(a.opts.Maps)) {
					fd = 0
				}
				s.set(r, value{kind: kMapPtr, region: int32(fd)}, topIval)
			case "map_fd_programs":
				s.set(r, value{kind: kMapPtr, region: int32(len(a.opts.Maps) - 1)}, topIval)
			default:
				if ri.typ != "" {
					s.regs[r] = value{kind: kMixed}
				}
			}
		}
	}
}

// checkPost counts the post-conditions that can be compared and how many
// of them the exit state reproduces.
func checkPost(post []string, s *state) (checkable, reproduced int) {
	for _, c := range post {
		c = strings.TrimSpace(c)
		m := reCons.FindStringSubmatch(c)
		if m == nil {
			if v, ok := strings.CutPrefix(c, "packet_size="); ok && s != nil {
				if lo, hi, ok := parseRange(v); ok {
					checkable++
					if l, h := s.z.bounds(locPkt); l == lo && h == hi {
						reproduced++
					}
				}
			}
			continue
		}
		r, _ := strconv.Atoi(m[1])
		val := strings.TrimSpace(m[3])
		lo, hi, isRange := parseRange(val)
		if s == nil || r > 10 {
			continue
		}
		v := s.regs[r]
		switch m[2] {
		case "type":
			want := map[string]kind{"number": kScalar, "ctx": kCtx, "stack": kStack, "packet": kPacket, "shared": kMapValue, "map_fd": kMapPtr}
			k, ok := want[val]
			if !ok {
				continue
			}
			checkable++
			if v.kind == k {
				reproduced++
			}
		case "svalue", "uvalue":
			if !isRange || v.kind != kScalar {
				continue
			}
			checkable++
			iv := s.ival(r)
			if m[2] == "svalue" && iv.smin == lo && iv.smax == hi {
				reproduced++
			}
			if m[2] == "uvalue" && int64(iv.umin) == lo && (int64(iv.umax) == hi || (hi == math.MaxInt64 && iv.umax == math.MaxUint64)) {
				reproduced++
			}
		case "stack_offset", "ctx_offset", "packet_offset", "shared_offset":
			if !isRange || !v.kind.hasOffset() || v.kind == kScalar {
				continue
			}
			checkable++
			iv := s.ival(r)
			if m[2] == "stack_offset" {
				lo, hi = lo-512, hi-512
			}
			if iv.smin == lo && iv.smax == hi {
				reproduced++
			}
		}
	}
	return
}

type yamlResult struct {
	file, name          string
	wantReject, rejects bool
	err                 string
	firstMsg            string
	checkable, repro    int
}

func runYAMLCase(file string, c *yamlCase) yamlResult {
	res := yamlResult{file: file, name: c.Name, wantReject: c.expectReject()}
	prog, sink, added, err := assemblePrevail(c.blocks())
	if err != nil {
		res.err = "assembly: " + err.Error()
		return res
	}
	var exit *state
	maps := yamlMaps()
	maps[len(maps)-1].Type = linux.MapProgArray
	hooks := &testHooks{
		pre:       applyPre(c.Pre),
		exit:      func(s *state) { exit = s },
		synthetic: added,
		sink:      sink,
		noTerm:    !c.option("termination"),
		divByZero: c.option("!allow_division_by_zero"),
	}
	_, verr := Verify(prog, Options{Type: yamlType(), ABI: linux.ABI(), Maps: maps, test: hooks, MaxIterations: 100000})
	var ve *VerifierError
	switch {
	case verr == nil:
	case errors.As(verr, &ve):
		res.rejects = true
		res.firstMsg = ve.Errors[0].String()
	default:
		res.err = verr.Error()
		res.rejects = true
	}
	if !res.rejects {
		res.checkable, res.repro = checkPost(c.Post, exit)
	}
	return res
}

func loadYAML(t *testing.T) map[string][]*yamlCase {
	files, _ := filepath.Glob(filepath.Join(yamlDir, "*.yaml"))
	if len(files) == 0 {
		t.Skip("no PREVAIL YAML tests in " + yamlDir)
	}
	out := map[string][]*yamlCase{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			c := &yamlCase{}
			if err := dec.Decode(c); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				t.Fatalf("%s: %v", f, err)
			}
			if c.Name != "" {
				out[filepath.Base(f)] = append(out[filepath.Base(f)], c)
			}
		}
	}
	return out
}

// knownDisagreements reads the case names listed in the disagreements file
// ("- `file.yaml` / case name: reason").
func knownDisagreements(t *testing.T) map[string]bool {
	data, err := os.ReadFile("testdata/prevail-disagreements.md")
	if err != nil {
		return map[string]bool{}
	}
	re := regexp.MustCompile("(?m)^- `([^`]+)` / (.+?):")
	out := map[string]bool{}
	for _, m := range re.FindAllStringSubmatch(string(data), -1) {
		out[m[1]+"/"+m[2]] = true
	}
	return out
}

var dumpYAML = os.Getenv("VERIFIER_YAML_DUMP") != ""

func TestPrevailYAML(t *testing.T) {
	suites := loadYAML(t)
	known := knownDisagreements(t)
	var files []string
	for f := range suites {
		files = append(files, f)
	}
	sort.Strings(files)
	total, agree, checkable, repro := 0, 0, 0, 0
	var dis []yamlResult
	for _, f := range files {
		for _, c := range suites[f] {
			r := runYAMLCase(f, c)
			total++
			checkable += r.checkable
			repro += r.repro
			if r.wantReject == r.rejects {
				agree++
				continue
			}
			dis = append(dis, r)
			key := f + "/" + c.Name
			if !known[key] {
				t.Errorf("%s: %q: PREVAIL expects reject=%v, got reject=%v %s %s", f, c.Name, r.wantReject, r.rejects, r.firstMsg, r.err)
			}
		}
	}
	listed := map[string]bool{}
	for _, r := range dis {
		listed[r.file+"/"+r.name] = true
	}
	for key := range known {
		if !listed[key] {
			t.Errorf("%s is listed in testdata/prevail-disagreements.md but agrees now: take it off the list", key)
		}
	}
	if dumpYAML {
		for _, r := range dis {
			fmt.Printf("- `%s` / %s: want reject=%v, got %v: %s%s\n", r.file, r.name, r.wantReject, r.rejects, r.firstMsg, r.err)
		}
	}
	t.Logf("PREVAIL YAML: %d cases, %d agree, %d disagree (listed in testdata/prevail-disagreements.md); post-conditions: %d of %d comparable ones reproduced",
		total, agree, len(dis), repro, checkable)
}
