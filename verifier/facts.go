package verifier

import "github.com/bpfhost/bpfhost/isa"

// Facts about a program that the engines and the runtime use, recorded as
// the analysis goes (decision 0016): the verifier is their one source.

// Values of analyzer.mapArgs besides map indices.
const (
	mapArgUnseen = -2 // no helper call with a map argument reached here yet
	mapArgMany   = -1 // not one map from one lddw on every path
)

// noteMapArg records the map argument v of the helper call at pc: the index
// of the map when v comes straight from an lddw of a map of Options.Maps
// (not a map-in-map lookup, whose map is only known at run time), and the
// same one every time the call is analysed.
func (a *analyzer) noteMapArg(pc int, v value) {
	id := int32(mapArgMany)
	if o := int(v.origin); v.kind == kMapPtr && o >= 0 && o+1 < len(a.prog) {
		lo := a.prog[o]
		if lo.IsLoadImm64() && (lo.Src == isa.PseudoMapIdx || lo.Src == isa.PseudoMapFD) &&
			lo.Imm == v.region && int(v.region) < len(a.opts.Maps) {
			id = v.region
		}
	}
	switch a.mapArgs[pc] {
	case mapArgUnseen:
		a.mapArgs[pc] = id
	case id:
	default:
		a.mapArgs[pc] = mapArgMany
	}
}

// facts fills in the facts of a program that verified.
func (a *analyzer) facts(res *Result) {
	res.MapArgs = make([]int, len(a.prog))
	for pc, id := range a.mapArgs {
		res.MapArgs[pc] = max(int(id), mapArgMany)
	}
	res.TailCalls = a.tailCall
	res.ZeroEntryFrame = a.readsUnwritten
	res.ZeroCallFrames = a.readsUnwrittenCalls
}
