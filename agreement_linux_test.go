package bpfhost_test

import (
	"encoding/binary"
	"runtime"
	"unsafe"

	"encoding/hex"
	"errors"
	"fmt"
	"golang.org/x/sys/unix"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"

	"github.com/bpfhost/bpfhost"
)

// outcome is what one run of a program over a list of inputs produced:
// per input the retval and output packet (or the error), then every map's
// final contents as comparable strings.
type outcome struct {
	runs []string
	maps map[string][]string
}

// agreement describes one kernel-agreement case.
type agreement struct {
	object    string
	program   string
	inputs    [][]byte
	mapInit   map[string][][2][]byte // key, value
	constants map[string]any
	// mask zeroes bytes of ring buffer records that legitimately differ
	// (timestamps): offset and length.
	mask [][2]int
	// skipMaps are not compared (their values are object IDs).
	skipMaps []string
	// engine runs the bpfhost side: "interp" or "jit".
	engine string
}

// kernelAvailable loads a trivial program into the kernel, or says why not.
func kernelAvailable() error {
	if err := rlimit.RemoveMemlock(); err != nil {
		return err
	}
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SocketFilter, License: "MIT", Instructions: trivialInsns()})
	if err != nil {
		return err
	}
	return p.Close()
}

func requireKernel(t *testing.T) {
	t.Helper()
	if err := kernelAvailable(); err != nil {
		t.Skipf("bpf() not permitted here, no kernel oracle: %v", err)
	}
}

func runKernel(t *testing.T, a agreement) outcome {
	t.Helper()
	spec, err := ebpf.LoadCollectionSpec(a.object)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range a.constants {
		if err := spec.Variables[name].Set(v); err != nil {
			t.Fatalf("kernel: constant %s: %v", name, err)
		}
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		t.Fatalf("kernel: %v", err)
	}
	defer coll.Close()
	for name, entries := range a.mapInit {
		for _, kv := range entries {
			if err := coll.Maps[name].Update(kv[0], kv[1], ebpf.UpdateAny); err != nil {
				t.Fatalf("kernel: init %s: %v", name, err)
			}
		}
	}
	prog := coll.Programs[a.program]
	var out outcome
	for _, in := range a.inputs {
		ret, dataOut, err := kernelTestRun(prog, in)
		out.runs = append(out.runs, describeRun(ret, dataOut, err))
	}
	out.maps = map[string][]string{}
	for name, m := range coll.Maps {
		if contains(a.skipMaps, name) {
			continue
		}
		out.maps[name] = kernelMapContents(t, m, a.mask)
	}
	return out
}

// kernelTestRun issues BPF_PROG_TEST_RUN itself, because the kernel's
// data_size_out is what says how long the output packet is.
func kernelTestRun(prog *ebpf.Program, in []byte) (uint32, []byte, error) {
	out := make([]byte, len(in)+4096)
	var attr testRunAttr
	attr.progFD = uint32(prog.FD())
	attr.sizeIn = uint32(len(in))
	attr.sizeOut = uint32(len(out))
	if len(in) > 0 {
		attr.dataIn = uint64(uintptr(unsafe.Pointer(&in[0])))
	}
	attr.dataOut = uint64(uintptr(unsafe.Pointer(&out[0])))
	attr.repeat = 1
	_, _, errno := unix.Syscall(unix.SYS_BPF, 10 /* BPF_PROG_TEST_RUN */, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	runtime.KeepAlive(in)
	runtime.KeepAlive(out)
	if errno != 0 {
		return 0, nil, errno
	}
	return attr.retval, out[:attr.sizeOut], nil
}

func describeRun(ret uint32, dataOut []byte, err error) string {
	if err != nil {
		return "error"
	}
	return fmt.Sprintf("retval %d data %x", ret, dataOut)
}

func kernelMapContents(t *testing.T, m *ebpf.Map, mask [][2]int) []string {
	var out []string
	switch m.Type() {
	case ebpf.RingBuf:
		rd, err := ringbuf.NewReader(m)
		if err != nil {
			t.Fatal(err)
		}
		defer rd.Close()
		for {
			rd.SetDeadline(time.Now().Add(10 * time.Millisecond))
			rec, err := rd.Read()
			if err != nil {
				break
			}
			out = append(out, hex.EncodeToString(masked(rec.RawSample, mask)))
		}
		return out
	case ebpf.ProgramArray, ebpf.ArrayOfMaps, ebpf.HashOfMaps, ebpf.Queue, ebpf.Stack, ebpf.BloomFilter, ebpf.PerfEventArray:
		return nil
	}
	perCPU := m.Type() == ebpf.PerCPUArray || m.Type() == ebpf.PerCPUHash || m.Type() == ebpf.LRUCPUHash
	key := make([]byte, m.KeySize())
	it := m.Iterate()
	if perCPU {
		elem := reflect.ArrayOf(int(m.ValueSize()), reflect.TypeOf(byte(0)))
		vals := reflect.New(reflect.SliceOf(elem))
		for it.Next(&key, vals.Interface()) {
			var parts []string
			for i := 0; i < vals.Elem().Len(); i++ {
				arr := vals.Elem().Index(i)
				b := make([]byte, arr.Len())
				reflect.Copy(reflect.ValueOf(b), arr)
				parts = append(parts, hex.EncodeToString(b))
			}
			out = append(out, hex.EncodeToString(key)+"="+perCPUSummary(parts))
		}
	} else {
		var val []byte
		for it.Next(&key, &val) {
			out = append(out, hex.EncodeToString(key)+"="+hex.EncodeToString(val))
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func runBpfhost(t *testing.T, a agreement) outcome {
	t.Helper()
	spec, err := bpfhost.LoadCollectionSpec(a.object)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range a.constants {
		if err := spec.SetConstant(name, v); err != nil {
			t.Fatalf("bpfhost: constant %s: %v", name, err)
		}
	}
	opts := engineOptions(a.engine)
	opts.Slots = kernelCPUs(t)
	coll, err := bpfhost.NewCollection(spec, opts)
	if err != nil {
		t.Fatalf("bpfhost: %v", err)
	}
	defer coll.Close()
	for name, entries := range a.mapInit {
		for _, kv := range entries {
			if err := coll.Maps[name].Update(kv[0], kv[1], bpfhost.UpdateAny); err != nil {
				t.Fatalf("bpfhost: init %s: %v", name, err)
			}
		}
	}
	prog := coll.Programs[a.program]
	if prog == nil {
		t.Fatalf("bpfhost: no program %q", a.program)
	}
	if prog.Checked() != opts.Checked {
		t.Fatalf("bpfhost: %s checked = %v, want %v", a.program, prog.Checked(), opts.Checked)
	}
	if want := opts.Engine; want != "" && prog.Engine() != want {
		t.Fatalf("bpfhost: %s ran on %s, want %s (%s)", a.program, prog.Engine(), want, prog.Fallback())
	}
	var out outcome
	for _, in := range a.inputs {
		opts := &bpfhost.RunOptions{Data: in, DataOut: []byte{}}
		ret, err := prog.Run(opts)
		if err != nil && !errors.Is(err, bpfhost.ErrInvalid) {
			t.Errorf("bpfhost run: %v", err)
		}
		out.runs = append(out.runs, describeRun(ret, opts.DataOut, err))
	}
	out.maps = map[string][]string{}
	for name, m := range coll.Maps {
		if contains(a.skipMaps, name) {
			continue
		}
		out.maps[name] = bpfhostMapContents(t, m, a.mask)
	}
	return out
}

func bpfhostMapContents(t *testing.T, m *bpfhost.Map, mask [][2]int) []string {
	var out []string
	switch m.Type().String() {
	case "ringbuf":
		rb := m.Unwrap()
		type reader interface {
			Read(time.Time) ([]byte, error)
		}
		for {
			rec, err := rb.(reader).Read(time.Now())
			if err != nil {
				break
			}
			out = append(out, hex.EncodeToString(masked(rec, mask)))
		}
		return out
	case "prog_array", "array_of_maps", "hash_of_maps", "queue", "stack", "bloom_filter", "perf_event_array":
		return nil
	}
	it := m.Iterate()
	var k, v []byte
	for it.Next(&k, &v) {
		if m.Type().PerCPU() {
			stride := (int(m.ValueSize()) + 7) &^ 7
			var parts []string
			for s := 0; s < len(v); s += stride {
				parts = append(parts, hex.EncodeToString(v[s:s+int(m.ValueSize())]))
			}
			out = append(out, hex.EncodeToString(k)+"="+perCPUSummary(parts))
		} else {
			out = append(out, hex.EncodeToString(k)+"="+hex.EncodeToString(v))
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// perCPUSummary reduces a per-CPU value to what does not depend on which CPU
// ran each test: the word-wise sum when the value is made of 64-bit words
// (counters), the sorted values otherwise.
func perCPUSummary(parts []string) string {
	if len(parts) == 0 || len(parts[0])%16 != 0 {
		sort.Strings(parts)
		return strings.Join(parts, ",")
	}
	sum := make([]uint64, len(parts[0])/16)
	for _, p := range parts {
		b, _ := hex.DecodeString(p)
		for i := range sum {
			sum[i] += binary.LittleEndian.Uint64(b[8*i:])
		}
	}
	return fmt.Sprint(sum)
}

func masked(rec []byte, mask [][2]int) []byte {
	rec = append([]byte(nil), rec...)
	for _, m := range mask {
		for i := m[0]; i < m[0]+m[1] && i < len(rec); i++ {
			rec[i] = 0
		}
	}
	return rec
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// kernelCPUs is the number of possible CPUs, so that per-CPU maps have as
// many values in bpfhost as in the kernel.
func kernelCPUs(t *testing.T) int {
	n, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func compareOutcomes(t *testing.T, a agreement) {
	t.Helper()
	requireKernel(t)
	k := runKernel(t, a)
	for _, engine := range engines {
		a.engine = engine
		t.Run(string(engine), func(t *testing.T) { compareWith(t, a, k) })
	}
}

func compareWith(t *testing.T, a agreement, k outcome) {
	t.Helper()
	b := runBpfhost(t, a)
	for i := range k.runs {
		if i >= len(b.runs) || k.runs[i] != b.runs[i] {
			got := "missing"
			if i < len(b.runs) {
				got = b.runs[i]
			}
			t.Errorf("%s/%s input %d:\n kernel  %s\n bpfhost %s", a.object, a.program, i+1, k.runs[i], got)
		}
	}
	for name, kv := range k.maps {
		bv, ok := b.maps[name]
		if !ok {
			t.Errorf("%s: map %q missing in bpfhost", a.object, name)
			continue
		}
		if !reflect.DeepEqual(kv, bv) {
			t.Errorf("%s: map %q differs:\n kernel  %v\n bpfhost %v", a.object, name, kv, bv)
		}
	}
}

func hexKV(key, value string) [2][]byte {
	k, _ := hex.DecodeString(key)
	v, _ := hex.DecodeString(value)
	return [2][]byte{k, v}
}

func trivialInsns() asm.Instructions {
	return asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}
}
