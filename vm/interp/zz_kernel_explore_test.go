package interp_test

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/bpfhost/bpfhost/internal/progen"
	"github.com/bpfhost/bpfhost/isa"
)

var exploreN = flag.Int("explore.n", 0, "")

func TestExploreVerifier(t *testing.T) {
	if *exploreN == 0 {
		t.Skip()
	}
	re := regexp.MustCompile(`processed (\d+) insns`)
	for _, c := range [][2]int{{1, 8}, {2, 8}, {1, 16}} {
		progen.MaxNestForks, progen.ForkyIterations = c[0], c[1]
		t.Log("config", c)
		for _, ki := range []int{2, 4} {
			k := kernelKinds[ki]
			var counts []int
			fails := 0
			for i := range *exploreN {
				p := progen.New(rand.New(rand.NewPCG(uint64(i), 99)), k.opts).Program()
				insns, _ := asm.AppendInstructions(nil, bytes.NewReader(isa.Encode(p)), binary.LittleEndian, "linux")
				prog, err := ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{Type: ebpf.SocketFilter, Instructions: insns, License: "MIT"}, ebpf.ProgramOptions{LogLevel: ebpf.LogLevelStats})
				if err != nil {
					fails++
					if fails == 1 {
						t.Logf("%s seed %d\n%s", k.name, i, isa.Disassemble(p))
						log := fmt.Sprintf("%+v", err)
						if len(log) > 6000 {
							log = log[len(log)-6000:]
						}
						t.Log(log)
					}
					counts = append(counts, 1000001)
					continue
				}
				m := re.FindStringSubmatch(prog.VerifierLog)
				n, _ := strconv.Atoi(m[1])
				counts = append(counts, n)
				prog.Close()
			}
			slices.Sort(counts)
			l := len(counts)
			_ = fails
			t.Logf("%s: fails %d p50 %d p90 %d p99 %d p999 %d max %d", k.name, fails, counts[l/2], counts[l*9/10], counts[l*99/100], counts[l*999/1000], counts[l-1])
		}
	}
}
