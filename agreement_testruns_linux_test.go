package bpfhost_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost"
)

// trCase is one test run of TestAgreementMoreTestRuns: the same
// BPF_PROG_TEST_RUN attributes for the kernel and for Program.Run.
type trCase struct {
	name    string
	data    []byte
	ctx     []byte // nil: no ctx_in
	dataOut bool   // pass a data_out buffer
	ctxOut  int    // size of a ctx_out buffer (0: none)
	// backOut reads the context back from ctx_in after the kernel's run
	// (syscall programs: the kernel writes it there); bpfhost gives it in
	// ContextOut.
	backOut bool
	repeat  uint32
}

// testRunAttr is the test member of union bpf_attr (BPF_PROG_TEST_RUN).
type testRunAttr struct {
	progFD, retval, sizeIn, sizeOut uint32
	dataIn, dataOut                 uint64
	repeat, duration                uint32
	ctxSizeIn, ctxSizeOut           uint32
	ctxIn, ctxOut                   uint64
	flags, cpu, batchSize           uint32
	_                               uint32
}

// trResult describes a run comparably: refused, or retval and outputs.
func trResult(ret uint32, dataOut, ctxOut []byte, err error) string {
	if err != nil {
		return "refused"
	}
	return fmt.Sprintf("retval %#x data_out %x ctx_out %x", ret, dataOut, ctxOut)
}

// kernelTrRun issues BPF_PROG_TEST_RUN with exactly the case's attributes
// (cilium/ebpf passes a data_out or repeat these types refuse).
func kernelTrRun(prog *ebpf.Program, c trCase) string {
	var attr testRunAttr
	data := append([]byte(nil), c.data...)
	ctx := append([]byte(nil), c.ctx...)
	var out, ctxOut []byte
	attr.progFD = uint32(prog.FD())
	attr.repeat = c.repeat
	if len(data) > 0 {
		attr.dataIn, attr.sizeIn = uint64(uintptr(unsafe.Pointer(&data[0]))), uint32(len(data))
	}
	if c.dataOut {
		out = make([]byte, len(data)+8192)
		attr.dataOut, attr.sizeOut = uint64(uintptr(unsafe.Pointer(&out[0]))), uint32(len(out))
	}
	if len(ctx) > 0 {
		attr.ctxIn, attr.ctxSizeIn = uint64(uintptr(unsafe.Pointer(&ctx[0]))), uint32(len(ctx))
	}
	if c.ctxOut > 0 {
		ctxOut = make([]byte, c.ctxOut)
		attr.ctxOut, attr.ctxSizeOut = uint64(uintptr(unsafe.Pointer(&ctxOut[0]))), uint32(len(ctxOut))
	}
	_, _, errno := unix.Syscall(unix.SYS_BPF, 10 /* BPF_PROG_TEST_RUN */, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	runtime.KeepAlive(data)
	runtime.KeepAlive(ctx)
	runtime.KeepAlive(out)
	runtime.KeepAlive(ctxOut)
	if errno != 0 {
		return trResult(0, nil, nil, errno)
	}
	if c.dataOut {
		out = out[:attr.sizeOut]
	}
	if c.ctxOut > 0 {
		ctxOut = ctxOut[:attr.ctxSizeOut]
	}
	if c.backOut {
		ctxOut = ctx
	}
	return trResult(attr.retval, out, ctxOut, nil)
}

func bpfhostTrRun(t *testing.T, prog *bpfhost.Program, c trCase) string {
	opts := &bpfhost.RunOptions{Data: c.data, Repeat: c.repeat}
	if c.dataOut {
		opts.DataOut = []byte{}
	}
	if c.ctx != nil {
		opts.Context = c.ctx
	}
	var ctxOut []byte
	if c.ctxOut > 0 || c.backOut {
		opts.ContextOut = &ctxOut
	}
	ret, err := prog.Run(opts)
	if err != nil && !errors.Is(err, bpfhost.ErrInvalid) {
		t.Errorf("%s: %v", c.name, err)
	}
	if err == nil && c.backOut && ctxOut == nil {
		ctxOut = []byte{} // the kernel's ctx_in of nothing
	}
	return trResult(ret, opts.DataOut, ctxOut, err)
}

func u32s(vs ...uint32) []byte {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		binary.NativeEndian.PutUint32(b[4*i:], v)
	}
	return b
}

func u64s(vs ...uint64) []byte {
	b := make([]byte, 8*len(vs))
	for i, v := range vs {
		binary.NativeEndian.PutUint64(b[8*i:], v)
	}
	return b
}

// flowKeysWith returns a struct bpf_flow_keys with one u32 set.
func flowKeysWith(off int, v uint32) []byte {
	b := make([]byte, 56)
	binary.NativeEndian.PutUint32(b[off:], v)
	return b
}

// skLookupCtx builds a struct bpf_sk_lookup.
func skLookupCtx(family, protocol uint32, remote4, local4 [4]byte, remote6, local6 [16]byte, remotePort [4]byte, localPort uint32) []byte {
	b := make([]byte, 72)
	binary.NativeEndian.PutUint32(b[8:], family)
	binary.NativeEndian.PutUint32(b[12:], protocol)
	copy(b[16:], remote4[:])
	copy(b[20:], remote6[:])
	copy(b[36:], remotePort[:])
	copy(b[40:], local4[:])
	copy(b[44:], local6[:])
	binary.NativeEndian.PutUint32(b[60:], localPort)
	return b
}

// xdpFrags is an XDP test packet of n bytes for the frags program: a byte
// pattern, with the offsets it loads from and stores to and its tail delta
// at bytes 14..19.
func xdpFrags(n int, loadAt, storeAt uint16, delta int16) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	binary.LittleEndian.PutUint16(b[14:], loadAt)
	binary.LittleEndian.PutUint16(b[16:], storeAt)
	binary.LittleEndian.PutUint16(b[18:], uint16(delta))
	return b
}

// xdpMDBytes is an xdp_md with data (the metadata length) and data_end.
func xdpMDBytes(data, dataEnd uint32) []byte {
	b := make([]byte, 24)
	binary.NativeEndian.PutUint32(b[0:], data)
	binary.NativeEndian.PutUint32(b[4:], dataEnd)
	return b
}

// frame builds an Ethernet frame of the given Ethertype and payload.
func frame(ethertype uint16, payload []byte) []byte {
	f := make([]byte, 14, 14+len(payload))
	binary.BigEndian.PutUint16(f[12:], ethertype)
	return append(f, payload...)
}

// ipv4TCP is an IPv4 header (ihl 5, TCP) and TCP ports 1234 -> 80.
func ipv4TCP(fragOff uint16) []byte {
	ip := make([]byte, 20+20)
	ip[0], ip[9] = 0x45, 6
	binary.BigEndian.PutUint16(ip[6:], fragOff)
	copy(ip[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	binary.BigEndian.PutUint16(ip[20:], 1234)
	binary.BigEndian.PutUint16(ip[22:], 80)
	return ip
}

// ipv6UDP is an IPv6 header (UDP, flow label 0xabcde) and ports 53 -> 5353.
func ipv6UDP() []byte {
	ip := make([]byte, 40+8)
	binary.BigEndian.PutUint32(ip[0:], 6<<28|0xabcde)
	ip[6] = 17
	for i := 0; i < 16; i++ {
		ip[8+i], ip[24+i] = byte(i), byte(0xf0+i)
	}
	binary.BigEndian.PutUint16(ip[40:], 53)
	binary.BigEndian.PutUint16(ip[42:], 5353)
	return ip
}

// TestAgreementMoreTestRuns runs testdata/testruns' flow dissector, raw
// tracepoint, syscall, sk_lookup and XDP multi-buffer (xdp.frags: packets
// past one page, in fragments) programs in the kernel and in each
// bpfhost engine with the same test-run attributes, accepted and refused
// ones, and compares retval, data_out, ctx_out and the map the programs
// record their context in. The cases of one program run in order on one
// collection, so a difference in what one run saw shows up in the map.
func TestAgreementMoreTestRuns(t *testing.T) {
	requireKernel(t)
	const object = "testdata/testruns/testruns.o"
	big := frame(0x0800, append(ipv4TCP(0), make([]byte, 4096-14-40)...))
	var v6 [16]byte
	for i := range v6 {
		v6[i] = byte(0x20 + i)
	}
	programs := []struct {
		name  string
		cases []trCase
	}{
		{"flow_dissect", []trCase{
			{name: "ipv4 tcp", data: frame(0x0800, ipv4TCP(0)), dataOut: true},
			{name: "ipv4 fragment, ctx out only", data: frame(0x0800, ipv4TCP(0x2000)), dataOut: true, ctxOut: 56},
			{name: "ipv6 udp with flags", data: frame(0x86dd, ipv6UDP()), ctx: flowKeysWith(48, 7), dataOut: true, ctxOut: 56},
			{name: "arp: offsets clamped", data: frame(0x0806, make([]byte, 28)), dataOut: true},
			{name: "short ipv4", data: frame(0x0800, ipv4TCP(0)[:10]), dataOut: true},
			{name: "repeat", data: frame(0x0800, ipv4TCP(0)), dataOut: true, repeat: 3},
			{name: "one page", data: big, dataOut: true},
			{name: "more than a page", data: append(big, 0), dataOut: true},
			{name: "runt", data: make([]byte, 13), dataOut: true},
			{name: "nhoff set", data: frame(0x0800, ipv4TCP(0)), ctx: flowKeysWith(0, 14), dataOut: true},
			{name: "flow_label set", data: frame(0x0800, ipv4TCP(0)), ctx: flowKeysWith(52, 1), dataOut: true},
			{name: "short ctx", data: frame(0x0800, ipv4TCP(0)), ctx: flowKeysWith(48, 1)[:52], dataOut: true, ctxOut: 56},
		}},
		{"rawtp", []trCase{
			{name: "three args", ctx: u64s(5, 1000, 1<<40)},
			{name: "all twelve", ctx: u64s(0xfffffffff, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)},
			{name: "thirteen", ctx: u64s(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)},
			{name: "two: the program reads three", ctx: u64s(1, 2)},
			{name: "no context", ctx: nil},
			{name: "data", ctx: u64s(1, 2, 3), data: []byte{1}},
			{name: "ctx out", ctx: u64s(1, 2, 3), ctxOut: 24},
			{name: "repeat", ctx: u64s(1, 2, 3), repeat: 2},
		}},
		{"sys", []trCase{
			{name: "args", ctx: u32s(21, 0, 100, 0), backOut: true},
			{name: "longer", ctx: append(u32s(4, 0, 0, 0), make([]byte, 100)...), backOut: true},
			{name: "short", ctx: u32s(21, 0, 100), backOut: true},
			{name: "no context", backOut: true},
			{name: "data", ctx: u32s(21, 0, 100, 0), data: []byte{1}, backOut: true},
		}},
		{"frags", []trCase{
			{name: "linear", data: xdpFrags(100, 50, 60, 0), dataOut: true},
			{name: "linear, grow within the page", data: xdpFrags(100, 50, 60, 3000), dataOut: true},
			{name: "linear, grow past the page", data: xdpFrags(100, 50, 60, 3500), dataOut: true},
			{name: "one fragment, grow it", data: xdpFrags(5000, 3600, 4990, 100), dataOut: true},
			{name: "across the boundary, drop the fragment", data: xdpFrags(5000, 3518, 3519, -1480), dataOut: true},
			{name: "shrink into the linear part", data: xdpFrags(5000, 10, 4996, -2000), dataOut: true},
			{name: "past the end", data: xdpFrags(5000, 4997, 4996, -4990), dataOut: true},
			{name: "seventeen fragments", data: xdpFrags(3520+17*4096, 65000, 3520+12*4096, 10), dataOut: true},
			{name: "too many fragments", data: xdpFrags(3520+17*4096+1, 0, 0, 0), dataOut: true},
			{name: "context: data_end below the data", data: xdpFrags(200, 100, 150, 8), ctx: xdpMDBytes(0, 50), dataOut: true, ctxOut: 24},
			{name: "context: metadata and fragments", data: xdpFrags(6000, 3540, 20, -5), ctx: xdpMDBytes(8, 3600), dataOut: true, ctxOut: 24},
			{name: "context out alone", data: xdpFrags(200, 0, 0, 0), dataOut: true, ctxOut: 24},
			{name: "repeat", data: xdpFrags(5000, 3600, 4990, 100), dataOut: true, repeat: 3},
		}},
		{"lookup", []trCase{
			{name: "ipv4 port 80", ctx: skLookupCtx(2, 6, [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, v6, v6, [4]byte{0x12, 0x34, 0xff, 0xff}, 80), ctxOut: 72},
			{name: "ipv6 port 81", ctx: skLookupCtx(10, 17, [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, v6, v6, [4]byte{0, 53}, 81), ctxOut: 72},
			{name: "family truncated", ctx: skLookupCtx(0x10002, 0x20006, [4]byte{1, 2, 3, 4}, [4]byte{5, 6, 7, 8}, v6, v6, [4]byte{0, 1}, 80), ctxOut: 72},
			{name: "no ctx out", ctx: skLookupCtx(2, 6, [4]byte{1}, [4]byte{2}, v6, v6, [4]byte{0, 1}, 80)},
			{name: "bad family", ctx: skLookupCtx(3, 6, [4]byte{1}, [4]byte{2}, v6, v6, [4]byte{0, 1}, 80), ctxOut: 72},
			{name: "port too large", ctx: skLookupCtx(2, 6, [4]byte{1}, [4]byte{2}, v6, v6, [4]byte{0, 1}, 70000), ctxOut: 72},
			{name: "ingress_ifindex", ctx: append(skLookupCtx(2, 6, [4]byte{1}, [4]byte{2}, v6, v6, [4]byte{0, 1}, 80)[:64], 1, 0, 0, 0, 0, 0, 0, 0), ctxOut: 72},
			{name: "cookie", ctx: append([]byte{1}, skLookupCtx(2, 6, [4]byte{1}, [4]byte{2}, v6, v6, [4]byte{0, 1}, 80)[1:]...), ctxOut: 72},
			{name: "ctx out alone", ctxOut: 72},
			{name: "none"},
			{name: "data", ctx: skLookupCtx(2, 6, [4]byte{1}, [4]byte{2}, v6, v6, [4]byte{0, 1}, 80), data: []byte{1}},
		}},
	}
	for _, p := range programs {
		t.Run(p.name, func(t *testing.T) {
			spec, err := ebpf.LoadCollectionSpec(object)
			if err != nil {
				t.Fatal(err)
			}
			coll, err := ebpf.NewCollection(spec)
			if err != nil {
				t.Fatalf("kernel: %v", err)
			}
			defer coll.Close()
			var want []string
			for _, c := range p.cases {
				want = append(want, kernelTrRun(coll.Programs[p.name], c))
			}
			wantMap := kernelMapContents(t, coll.Maps["seen"], nil)
			for _, engine := range engines {
				t.Run(engine, func(t *testing.T) {
					bspec, err := bpfhost.LoadCollectionSpec(object)
					if err != nil {
						t.Fatal(err)
					}
					opts := engineOptions(engine)
					opts.Programs = []string{p.name}
					bc, err := bpfhost.NewCollection(bspec, opts)
					if err != nil {
						t.Fatal(err)
					}
					defer bc.Close()
					for i, c := range p.cases {
						if got := bpfhostTrRun(t, bc.Programs[p.name], c); got != want[i] {
							t.Errorf("%s:\n kernel  %s\n bpfhost %s", c.name, want[i], got)
						}
					}
					if got := bpfhostMapContents(t, bc.Maps["seen"], nil); !reflect.DeepEqual(got, wantMap) {
						t.Errorf("map seen:\n kernel  %v\n bpfhost %v", wantMap, got)
					}
				})
			}
		})
	}
}
