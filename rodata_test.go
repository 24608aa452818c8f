package bpfhost

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/bpfhost/bpfhost/maps"
)

// rodataObject's port_filter loops over ports[] up to ports_len, both const
// volatile globals in .rodata: only a known ports_len of at most 8 bounds
// the loop and its reads (libbpf-tools' tcpconnect has the same shape).
const rodataObject = "testdata/rodata/rodata.o"

// rodataSpec is rodataObject with ports_len = n and ports = 10, 20, 30, ...
func rodataSpec(t *testing.T, n uint32) *CollectionSpec {
	t.Helper()
	spec, err := LoadCollectionSpec(rodataObject)
	if err != nil {
		t.Fatal(err)
	}
	var ports [8]uint16
	for i := range ports {
		ports[i] = uint16(10 * (i + 1))
	}
	if err := spec.SetConstant("ports", ports); err != nil {
		t.Fatal(err)
	}
	if err := spec.SetConstant("ports_len", n); err != nil {
		t.Fatal(err)
	}
	return spec
}

// rodataVerdicts are the verdicts on rodataObject's programs by ports_len:
// bpfhost's ("" accepted, else a part of the refusal) and Linux's, which
// TestRodataKernel checks. port_filter's pointer into ports[] is bounded by
// the loop's trip count (verifier/strideptr.go). With ports_len 7 or 8 it
// is a precision gap of bpfhost's termination proof: the kernel follows
// the iterations; bpfhost does not bound the trip count.
var rodataVerdicts = []struct {
	prog    string
	n       uint32
	bpfhost string
	kernel  bool
}{
	{"port_filter", 0, "", true},
	{"port_filter", 3, "", true},
	{"port_filter", 6, "", true},
	{"port_filter", 8, "loop may not terminate", true},
	{"port_filter", 9, "loop", false},
	{"last_port", 0, "", true},
	{"last_port", 1, "", true},
	{"last_port", 8, "", true},
	{"last_port", 9, "outside the 20-byte map .rodata value", false},
}

// rodataDrops says whether rodataObject's program drops a frame that
// starts with port, when ports_len is n and ports 10, 20, 30, ...
func rodataDrops(prog string, n uint32, port uint16) bool {
	if port == 0 || port%10 != 0 || uint32(port/10) > n {
		return false
	}
	return prog == "port_filter" || uint32(port/10) == n
}

// TestRodataConstants: NewCollection freezes .rodata after writing the
// constants the caller set, and the verifier reads them as constants, as
// Linux reads a frozen read-only map's bytes: each program is accepted
// only for the values of ports_len that keep its reads of ports[] in
// bounds. Before, ports_len was an unknown number and every row was
// refused. Each accepted program runs and drops exactly the ports it was
// given, and user space cannot change the constants afterwards.
func TestRodataConstants(t *testing.T) {
	for _, tc := range rodataVerdicts {
		spec := rodataSpec(t, tc.n)
		ps := spec.Program(tc.prog)
		info, _, err := ProgramType(ps, nil)
		if err != nil {
			t.Fatal(err)
		}
		verr := VerifyProgram(spec, ps, info, nil)
		c, err := NewCollection(spec, &CollectionOptions{Programs: []string{tc.prog}})
		if tc.bpfhost != "" {
			for _, err := range []error{err, verr} {
				var ve *VerifierError
				if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.bpfhost) {
					t.Errorf("%s, ports_len %d: %v, want a verifier refusal about %s", tc.prog, tc.n, err, tc.bpfhost)
				}
			}
			if c != nil {
				c.Close()
			}
			continue
		}
		if err != nil || verr != nil {
			t.Errorf("%s, ports_len %d: NewCollection %v, VerifyProgram %v; want both accepted", tc.prog, tc.n, err, verr)
			continue
		}
		for port := uint16(0); port <= 100; port += 5 {
			frame := make([]byte, 64)
			binary.NativeEndian.PutUint16(frame, port)
			want := uint32(2) // XDP_PASS
			if rodataDrops(tc.prog, tc.n, port) {
				want = 1 // XDP_DROP
			}
			if got, err := c.Programs[tc.prog].Run(&RunOptions{Data: frame}); err != nil || got != want {
				t.Errorf("%s, ports_len %d, port %d: %d, %v; want %d", tc.prog, tc.n, port, got, err, want)
			}
		}
		checkFrozenRodata(t, c.Maps[".rodata"], tc.n)
		c.Close()
	}
	// The caller's spec keeps its constants for the next load.
	spec := rodataSpec(t, 5)
	if c, err := NewCollection(spec, &CollectionOptions{Programs: []string{"last_port"}}); err == nil {
		c.Close()
	}
	if b, err := spec.VariableValue("ports_len"); err != nil || binary.LittleEndian.Uint32(b) != 5 {
		t.Errorf("ports_len after NewCollection: %x, %v; want 5", b, err)
	}
}

// checkFrozenRodata checks that m is frozen, that user space cannot change
// its bytes (which the verifier relied on) and that they hold ports_len n.
func checkFrozenRodata(t *testing.T, m *Map, n uint32) {
	t.Helper()
	if m == nil || !m.Frozen() {
		t.Fatalf(".rodata map %v: want a frozen map", m)
	}
	value := make([]byte, m.ValueSize())
	if err := m.Update(uint32(0), value, UpdateAny); err == nil {
		t.Error("user space updated the frozen .rodata map")
	}
	if _, err := m.BatchUpdate([]uint32{0}, value, UpdateAny); err == nil {
		t.Error("user space batch-updated the frozen .rodata map")
	}
	if err := m.Freeze(); err != nil {
		t.Errorf("freezing again: %v", err)
	}
	got, err := m.LookupBytes(uint32(0))
	if err != nil {
		t.Fatal(err)
	}
	if v := binary.LittleEndian.Uint32(got); v != n { // ports_len is first (rodata.c)
		t.Errorf(".rodata holds ports_len %d, want %d", v, n)
	}
}

// TestRodataMemoryFile: a .rodata map kept in a reused map memory file
// (a restart over the same MapMemoryDir) must hold the constants the
// programs are verified with: the same constants load again, others are
// refused with ErrMapIncompatible. Without the check, the file's old bytes
// would stay while the verifier read the spec's: a program verified for
// ports_len 2 would run with the 3 of the earlier load.
func TestRodataMemoryFile(t *testing.T) {
	if !maps.FileMemory {
		t.Skip("no map memory files on this system")
	}
	dir := t.TempDir()
	c, err := NewCollection(rodataSpec(t, 3), &CollectionOptions{MapMemoryDir: dir, Programs: []string{"last_port"}})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	c, err = NewCollection(rodataSpec(t, 3), &CollectionOptions{MapMemoryDir: dir, Programs: []string{"last_port"}})
	if err != nil {
		t.Fatalf("the same constants again: %v", err)
	}
	checkFrozenRodata(t, c.Maps[".rodata"], 3)
	c.Close()
	if c, err = NewCollection(rodataSpec(t, 2), &CollectionOptions{MapMemoryDir: dir, Programs: []string{"last_port"}}); !errors.Is(err, ErrMapIncompatible) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("other constants over the same memory file: %v, want ErrMapIncompatible", err)
	}
}

// TestRodataFromCilium: constants set on a cilium/ebpf spec (what bpf2go
// loaders do, VariableSpec.Set) are the ones NewCollection freezes and the
// verifier reads, as the kernel would with the same spec.
func TestRodataFromCilium(t *testing.T) {
	cs, err := ebpf.LoadCollectionSpec(rodataObject)
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Variables["ports"].Set([8]uint16{10, 20, 30, 40, 50, 60, 70, 80}); err != nil {
		t.Fatal(err)
	}
	if err := cs.Variables["ports_len"].Set(uint32(2)); err != nil {
		t.Fatal(err)
	}
	spec, err := CollectionSpecFromCilium(cs)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCollection(spec, &CollectionOptions{Programs: []string{"last_port"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, port := range []uint16{10, 20, 30} {
		frame := make([]byte, 64)
		binary.NativeEndian.PutUint16(frame, port)
		want := uint32(2)
		if rodataDrops("last_port", 2, port) {
			want = 1
		}
		if got, err := c.Programs["last_port"].Run(&RunOptions{Data: frame}); err != nil || got != want {
			t.Errorf("port %d: %d, %v; want %d", port, got, err, want)
		}
	}
	checkFrozenRodata(t, c.Maps[".rodata"], 2)
}
