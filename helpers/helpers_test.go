package helpers

import (
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
)

// fakeHost names maps by made-up register values and records printk lines.
type fakeHost struct {
	mu    sync.Mutex
	byPtr map[uint64]maps.Map
	ptrOf map[maps.Map]uint64
	lines []string
}

func newHost() *fakeHost {
	return &fakeHost{byPtr: map[uint64]maps.Map{}, ptrOf: map[maps.Map]uint64{}}
}

// add registers m and returns the register value that names it.
func (f *fakeHost) add(m maps.Map) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.ptrOf[m]; ok {
		return p
	}
	p := uint64(0x7f0000000000) + uint64(len(f.byPtr)+1)*0x100
	f.byPtr[p], f.ptrOf[m] = m, p
	return p
}

func (f *fakeHost) MapOf(p uint64) (maps.Map, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.byPtr[p]
	return m, ok
}

func (f *fakeHost) HandlePtr(h any) uint64 { return f.add(h.(maps.Map)) }

func (f *fakeHost) TailTarget(h any) (vm.Executable, bool) {
	e, ok := h.(vm.Executable)
	return e, ok
}

func (f *fakeHost) Printk(line string) {
	f.mu.Lock()
	f.lines = append(f.lines, line)
	f.mu.Unlock()
}

func (f *fakeHost) last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.lines) == 0 {
		return ""
	}
	return f.lines[len(f.lines)-1]
}

// env is one RunContext with helpers and registered memory, for calling
// helpers directly.
type env struct {
	t    testing.TB
	host *fakeHost
	h    vm.Helpers
	rc   *vm.RunContext
	keep [][]byte // memory the regions describe, kept reachable
}

func newEnv(t testing.TB, mode vm.Mode) *env {
	host := newHost()
	rc := &vm.RunContext{Mode: mode}
	rc.Stack()
	return &env{t: t, host: host, h: New(host), rc: rc}
}

// mem allocates n bytes and registers them as a region.
func (e *env) mem(name string, n int, writable bool) ([]byte, uint64) {
	b := make([]byte, n)
	e.keep = append(e.keep, b)
	e.rc.Regions = append(e.rc.Regions, vm.RegionOf(name, b, writable))
	return b, addr(b)
}

// newMap creates a map, registers its value memory and returns its pointer.
func (e *env) newMap(s maps.Spec, slots int) (maps.Map, uint64) {
	e.t.Helper()
	m, err := maps.New(s, slots)
	if err != nil {
		e.t.Fatalf("maps.New: %v", err)
	}
	switch m := m.(type) {
	case maps.ElemMap:
		e.rc.Regions = append(e.rc.Regions, vm.RegionOf(s.Name+" values", m.ValueMemory(), true))
	case *maps.RingBufMap:
		e.rc.Regions = append(e.rc.Regions, vm.RegionOf(s.Name+" data", m.DataMemory(), true))
	}
	return m, e.host.add(m)
}

func (e *env) call(id platform.HelperID, args ...uint64) (uint64, error) {
	e.t.Helper()
	f, ok := e.h[int32(id)]
	if !ok {
		e.t.Fatalf("helper %d not in the table", id)
	}
	var a [5]uint64
	copy(a[:], args)
	return f(e.rc, a[0], a[1], a[2], a[3], a[4])
}

// mustCall calls a helper that must not fail.
func (e *env) mustCall(id platform.HelperID, args ...uint64) int64 {
	e.t.Helper()
	r, err := e.call(id, args...)
	if err != nil {
		e.t.Fatalf("helper %d: %v", id, err)
	}
	return int64(r)
}

func addr(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(&b[0]))) }

// inHeap returns a copy of b in the Go heap, whose objects never move. A
// helper gets a guest address as an integer, which neither keeps memory
// alive nor follows it; a slice the compiler keeps on the goroutine's
// stack moves when the stack grows or the collector shrinks it, and the
// helper then reads the old stack (the race detector's pointer checks
// stopped TestLookupSocketAllocs at it every time).
func inHeap(b []byte) []byte {
	p := append([]byte(nil), b...)
	heapKept = append(heapKept, p)
	return p
}

// heapKept makes what inHeap returns escape to the heap.
var heapKept [][]byte

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.NativeEndian.AppendUint64(nil, v) }

// compile assembles src for the interpreter with the helpers of host.
func compile(t testing.TB, src string, host Host, mode vm.Mode) vm.Executable {
	t.Helper()
	prog, err := isa.Assemble(src)
	if err != nil {
		t.Fatalf("assemble: %v\n%s", err, src)
	}
	exe, err := interp.New().Compile(&vm.Program{Instructions: prog, Helpers: New(host)}, vm.CompileOptions{Mode: mode})
	if err != nil {
		t.Fatalf("compile: %v\n%s", err, src)
	}
	return exe
}

func wantAccessError(t *testing.T, what string, err error) {
	t.Helper()
	var ae *vm.AccessError
	if !errors.As(err, &ae) {
		t.Errorf("%s: err = %v, want an *vm.AccessError", what, err)
	}
}

func TestSupported(t *testing.T) {
	want := []platform.HelperID{
		linux.FnMapLookupElem, linux.FnMapUpdateElem, linux.FnMapDeleteElem, linux.FnMapPushElem,
		linux.FnMapPopElem, linux.FnMapPeekElem, linux.FnMapLookupPercpuElem, linux.FnForEachMapElem,
		linux.FnLoop, linux.FnTailCall, linux.FnKtimeGetNs, linux.FnKtimeGetBootNs, linux.FnKtimeGetCoarseNs,
		linux.FnKtimeGetTaiNs, linux.FnJiffies64, linux.FnGetPrandomU32, linux.FnGetSmpProcessorId,
		linux.FnGetNumaNodeId, linux.FnTracePrintk, linux.FnTraceVprintk, linux.FnFibLookup, linux.FnCheckMtu, linux.FnSnprintf, linux.FnStrncmp, linux.FnStrtol,
		linux.FnStrtoul, linux.FnCsumDiff, linux.FnRingbufOutput, linux.FnRingbufReserve,
		linux.FnRingbufSubmit, linux.FnRingbufDiscard, linux.FnRingbufQuery, linux.FnPerfEventOutput,
		linux.FnGetCurrentPidTgid, linux.FnGetCurrentUidGid, linux.FnGetCurrentComm, linux.FnProbeRead,
		linux.FnProbeReadKernel, linux.FnProbeReadUser, linux.FnProbeReadStr, linux.FnProbeReadKernelStr,
		linux.FnProbeReadUserStr, linux.FnSpinLock, linux.FnSpinUnlock, linux.FnXdpAdjustHead,
		linux.FnXdpAdjustTail, linux.FnXdpAdjustMeta, linux.FnRedirect, linux.FnRedirectMap,
		linux.FnSkbLoadBytes, linux.FnSkbStoreBytes, linux.FnL3CsumReplace, linux.FnL4CsumReplace,
		linux.FnGetHashRecalc,
	}
	for _, id := range want {
		if !Supported(id) {
			t.Errorf("helper %d not supported", id)
		}
	}
	if Supported(linux.FnGetCurrentTask) {
		t.Errorf("bpf_get_current_task supported, want absent")
	}
	table := New(newHost())
	if len(table) != len(IDs()) {
		t.Errorf("New has %d helpers, IDs %d", len(table), len(IDs()))
	}
	for _, id := range IDs() {
		if table[int32(id)] == nil {
			t.Errorf("helper %d: nil in the table", id)
		}
	}
	// An unknown helper is absent: Compile names it.
	prog, _ := isa.Assemble("call 35\nexit")
	_, err := interp.New().Compile(&vm.Program{Instructions: prog, Helpers: table}, vm.CompileOptions{})
	if !errors.Is(err, vm.ErrUnknownHelper) || !strings.Contains(err.Error(), "35") {
		t.Errorf("compile with unknown helper: %v", err)
	}
}

func ptrOf[T any](p *T) unsafe.Pointer { return unsafe.Pointer(p) }

// neg64 passes a negative number in a register.
func neg64(v int64) uint64 { return uint64(v) }
