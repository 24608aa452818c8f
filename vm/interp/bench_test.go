package interp_test

import (
	"testing"

	"github.com/bpfhost/bpfhost/internal/enginetest"
	"github.com/bpfhost/bpfhost/vm/interp"
)

func BenchmarkArithLoop(b *testing.B)  { enginetest.Benchmark(b, interp.New(), enginetest.ArithLoop) }
func BenchmarkMemoryLoop(b *testing.B) { enginetest.Benchmark(b, interp.New(), enginetest.MemLoop) }
func BenchmarkCallLoop(b *testing.B)   { enginetest.Benchmark(b, interp.New(), enginetest.CallLoop) }
