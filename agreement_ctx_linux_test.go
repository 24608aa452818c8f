package bpfhost_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/bpfhost/bpfhost"
)

// ctxField is a context field a test program reads: offset and size.
type ctxField struct {
	off  int16
	size asm.Size
}

// ctxProgram reads the given fields of r1's context, folds them into the
// return value (r0 = r0*31 + field), then adds each field's value to the
// 4-byte writable fields in write (and 7 to an 8-byte one), so that ctx_out
// shows what the program saw.
func ctxProgram(read []ctxField, write []ctxField) asm.Instructions {
	insns := asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1), asm.Mov.Imm(asm.R0, 0)}
	for _, f := range read {
		insns = append(insns,
			asm.LoadMem(asm.R2, asm.R6, f.off, f.size),
			asm.Mul.Imm(asm.R0, 31),
			asm.Add.Reg(asm.R0, asm.R2))
	}
	for i, f := range write {
		insns = append(insns, asm.LoadMem(asm.R2, asm.R6, f.off, f.size))
		if f.size == asm.DWord {
			insns = append(insns, asm.Add.Imm(asm.R2, 7))
		} else {
			insns = append(insns, asm.Add.Imm32(asm.R2, int32(i+1)), asm.Add.Reg32(asm.R2, asm.R0))
		}
		insns = append(insns, asm.StoreMem(asm.R6, f.off, asm.R2, f.size))
	}
	return append(insns, asm.Return())
}

// verdictReturn makes a ctxProgram return 0 or 1 (cgroup_skb's verdicts):
// the folded value goes to the context at cbOff, its low bit to r0.
func verdictReturn(insns asm.Instructions, cbOff int16) asm.Instructions {
	insns = insns[:len(insns)-1]
	return append(insns,
		asm.StoreMem(asm.R6, cbOff, asm.R0, asm.Word),
		asm.And.Imm(asm.R0, 1),
		asm.Return())
}

// xdpCtxProgram returns data-data_meta, data_end-data, ingress_ifindex and
// rx_queue_index packed into r0, and flips the first packet byte.
func xdpCtxProgram() asm.Instructions {
	return asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word), // data
		asm.LoadMem(asm.R3, asm.R1, 4, asm.Word), // data_end
		asm.LoadMem(asm.R4, asm.R1, 8, asm.Word), // data_meta
		asm.LoadMem(asm.R5, asm.R1, 12, asm.Word),
		asm.LoadMem(asm.R7, asm.R1, 16, asm.Word),
		asm.Mov.Reg(asm.R0, asm.R2),
		asm.Sub.Reg(asm.R0, asm.R4),
		asm.Mov.Reg(asm.R8, asm.R3),
		asm.Sub.Reg(asm.R8, asm.R2),
		asm.LSh.Imm(asm.R8, 8),
		asm.Add.Reg(asm.R0, asm.R8),
		asm.LSh.Imm(asm.R5, 20),
		asm.Add.Reg(asm.R0, asm.R5),
		asm.LSh.Imm(asm.R7, 26),
		asm.Add.Reg(asm.R0, asm.R7),
		asm.Mov.Reg(asm.R8, asm.R2),
		asm.Add.Imm(asm.R8, 1),
		{OpCode: asm.JGT.Op(asm.RegSource), Dst: asm.R8, Src: asm.R3, Offset: 3}, // to the exit
		asm.LoadMem(asm.R9, asm.R2, 0, asm.Byte),
		asm.Xor.Imm(asm.R9, 0xff),
		asm.StoreMem(asm.R2, 0, asm.R9, asm.Byte),
		asm.Return(),
	}
}

// ctxCase is one test run: a context to start from (nil for none).
type ctxCase struct {
	name string
	ctx  []byte
	// outOnly asks for ctx_out without giving ctx_in.
	outOnly bool
}

// skbCtx builds an __sk_buff with 4-byte fields set by offset and 8-byte
// fields set in wide.
func skbCtx(narrow map[int]uint32, wide map[int]uint64) []byte {
	b := make([]byte, 192)
	for off, v := range narrow {
		binary.NativeEndian.PutUint32(b[off:], v)
	}
	for off, v := range wide {
		binary.NativeEndian.PutUint64(b[off:], v)
	}
	return b
}

func xdpCtx(data, dataEnd, dataMeta, ingress, rxq, egress uint32) []byte {
	b := make([]byte, 24)
	for i, v := range []uint32{data, dataEnd, dataMeta, ingress, rxq, egress} {
		binary.NativeEndian.PutUint32(b[4*i:], v)
	}
	return b
}

// ctxPacket is a 64-byte Ethernet/IPv4/UDP frame to the zero address.
func ctxPacket() []byte {
	pkt := make([]byte, 64)
	copy(pkt[6:], []byte{2, 0, 0, 0, 0, 1})
	pkt[12], pkt[13] = 0x08, 0x00
	pkt[14], pkt[16], pkt[17], pkt[22], pkt[23] = 0x45, 0, 50, 64, 17
	copy(pkt[26:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	for i := 34; i < len(pkt); i++ {
		pkt[i] = byte(i)
	}
	return pkt
}

// TestAgreementTestRunContext sets every field Linux lets a caller set in
// __sk_buff and xdp_md, and some it refuses, and compares retval, ctx_out,
// data_out and refusals with BPF_PROG_TEST_RUN.
func TestAgreementTestRunContext(t *testing.T) {
	requireKernel(t)
	pkt := ctxPacket()
	// __sk_buff offsets (linux/bpf.h).
	const (
		len_, pktType, mark, queueMapping, protocol, vlanPresent, vlanTCI, vlanProto = 0, 4, 8, 12, 16, 20, 24, 28
		priority, ingressIfindex, ifindex, tcIndex, cb, hash, tcClassid, data        = 32, 36, 40, 44, 48, 68, 72, 76
		napiID, tstamp, wireLen, gsoSegs, sk, gsoSize, tstampType, hwtstamp          = 84, 152, 160, 164, 168, 176, 180, 184
	)
	w := func(off int16) ctxField { return ctxField{off, asm.Word} }
	dw := func(off int16) ctxField { return ctxField{off, asm.DWord} }
	common := []ctxField{w(len_), w(pktType), w(mark), w(queueMapping), w(protocol), w(vlanPresent), w(vlanTCI), w(vlanProto),
		w(priority), w(ingressIfindex), w(ifindex), w(tcIndex), w(cb), w(cb + 4), w(cb + 8), w(cb + 12), w(cb + 16), w(hash), w(napiID),
		w(gsoSegs), w(gsoSize)}
	tcRead := append(append([]ctxField{}, common...), w(tcClassid), dw(tstamp), w(wireLen), dw(hwtstamp))
	tcWrite := []ctxField{w(mark), w(priority), w(cb), w(cb + 16), dw(tstamp)}
	sfWrite := []ctxField{w(cb), w(cb + 8), w(cb + 16)}
	// cgroup_skb reads the socket's addresses and returns 0 or 1.
	const family, remoteIP4, localIP4 = 88, 92, 96
	cgRead := append(append([]ctxField{}, common...), dw(tstamp), dw(hwtstamp), w(family), w(remoteIP4), w(localIP4))
	cgWrite := []ctxField{w(mark), w(priority), w(cb + 4), dw(tstamp)}

	all := skbCtx(map[int]uint32{mark: 0x11223344, priority: 7, ingressIfindex: 5, ifindex: 1,
		cb: 1, cb + 4: 2, cb + 8: 3, cb + 12: 4, cb + 16: 5, wireLen: 1000, gsoSegs: 3, gsoSize: 1400},
		map[int]uint64{tstamp: 0x1122334455667788, hwtstamp: 0x99aabbccddeeff})
	skbCases := []ctxCase{
		{name: "none", ctx: nil},
		{name: "ctx_out only", outOnly: true},
		{name: "zero", ctx: make([]byte, 192)},
		{name: "settable", ctx: all},
		{name: "ifindex lo", ctx: skbCtx(map[int]uint32{ifindex: 1}, nil)},
		{name: "tstamp", ctx: skbCtx(nil, map[int]uint64{tstamp: 12345})},
		{name: "wire_len=len", ctx: skbCtx(map[int]uint32{wireLen: 64}, nil)},
		{name: "wire_len=len-14", ctx: skbCtx(map[int]uint32{wireLen: 50}, nil)},
		{name: "wire_len<len", ctx: skbCtx(map[int]uint32{wireLen: 20}, nil)},
		{name: "wire_len too big", ctx: skbCtx(map[int]uint32{wireLen: 70000}, nil)},
		{name: "gso_segs too many", ctx: skbCtx(map[int]uint32{gsoSegs: 70000}, nil)},
		{name: "gso", ctx: skbCtx(map[int]uint32{gsoSegs: 65535, gsoSize: 9000}, nil)},
		{name: "hwtstamp", ctx: skbCtx(nil, map[int]uint64{hwtstamp: 1})},
		{name: "len", ctx: skbCtx(map[int]uint32{len_: 5}, nil)},
		{name: "pkt_type", ctx: skbCtx(map[int]uint32{pktType: 1}, nil)},
		{name: "queue_mapping", ctx: skbCtx(map[int]uint32{queueMapping: 1}, nil)},
		{name: "protocol", ctx: skbCtx(map[int]uint32{protocol: 8}, nil)},
		{name: "tc_index", ctx: skbCtx(map[int]uint32{tcIndex: 1}, nil)},
		{name: "hash", ctx: skbCtx(map[int]uint32{hash: 1}, nil)},
		{name: "tc_classid", ctx: skbCtx(map[int]uint32{tcClassid: 1}, nil)},
		{name: "data", ctx: skbCtx(map[int]uint32{data: 1}, nil)},
		{name: "napi_id", ctx: skbCtx(map[int]uint32{napiID: 1}, nil)},
		{name: "sk", ctx: skbCtx(nil, map[int]uint64{sk: 1})},
		{name: "tstamp_type", ctx: skbCtx(map[int]uint32{tstampType: 1}, nil)},
	}
	xdpCases := []ctxCase{
		{name: "none", ctx: nil},
		{name: "ctx_out only", outOnly: true},
		{name: "zero", ctx: xdpCtx(0, 0, 0, 0, 0, 0)},
		{name: "data_end", ctx: xdpCtx(0, 64, 0, 0, 0, 0)},
		{name: "meta 8", ctx: xdpCtx(8, 64, 0, 0, 0, 0)},
		{name: "meta 32", ctx: xdpCtx(32, 64, 0, 0, 0, 0)},
		{name: "meta 36", ctx: xdpCtx(36, 64, 0, 0, 0, 0)},
		{name: "meta 48", ctx: xdpCtx(48, 64, 0, 0, 0, 0)},
		{name: "meta 52", ctx: xdpCtx(52, 64, 0, 0, 0, 0)},
		{name: "meta 60", ctx: xdpCtx(60, 64, 0, 0, 0, 0)},
		{name: "meta 64", ctx: xdpCtx(64, 64, 0, 0, 0, 0)},
		{name: "meta 68", ctx: xdpCtx(68, 64, 0, 0, 0, 0)},
		{name: "meta 6", ctx: xdpCtx(6, 64, 0, 0, 0, 0)},
		{name: "data_meta", ctx: xdpCtx(0, 64, 4, 0, 0, 0)},
		{name: "data_end short", ctx: xdpCtx(0, 60, 0, 0, 0, 0)},
		{name: "data_end long", ctx: xdpCtx(0, 65, 0, 0, 0, 0)},
		{name: "ingress lo", ctx: xdpCtx(0, 64, 0, 1, 0, 0)},
		{name: "ingress lo queue 1", ctx: xdpCtx(0, 64, 0, 1, 1, 0)},
		{name: "queue without device", ctx: xdpCtx(0, 64, 0, 0, 1, 0)},
		{name: "egress", ctx: xdpCtx(0, 64, 0, 0, 0, 1)},
	}
	for _, tt := range []struct {
		name    string
		typ     ebpf.ProgramType
		section string
		insns   asm.Instructions
		ctxSize int
		cases   []ctxCase
	}{
		{"tc", ebpf.SchedCLS, "tc", ctxProgram(tcRead, tcWrite), 192, skbCases},
		{"socket_filter", ebpf.SocketFilter, "socket", ctxProgram(common, sfWrite), 192, skbCases},
		{"cgroup_skb", ebpf.CGroupSKB, "cgroup_skb/ingress", verdictReturn(ctxProgram(cgRead, cgWrite), cb), 192, skbCases},
		{"xdp", ebpf.XDP, "xdp", xdpCtxProgram(), 24, xdpCases},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ps := &ebpf.ProgramSpec{Name: "p", Type: tt.typ, SectionName: tt.section, License: "GPL", Instructions: tt.insns}
			kprog, err := ebpf.NewProgram(ps)
			if err != nil {
				t.Fatalf("kernel load: %v", err)
			}
			defer kprog.Close()
			spec, err := bpfhost.CollectionSpecFromCilium(&ebpf.CollectionSpec{Programs: map[string]*ebpf.ProgramSpec{"p": ps.Copy()}})
			if err != nil {
				t.Fatal(err)
			}
			for _, engine := range engines {
				coll, err := bpfhost.NewCollection(spec, engineOptions(engine))
				if err != nil {
					t.Fatalf("bpfhost %s: %v", engine, err)
				}
				prog := coll.Programs["p"]
				for _, c := range tt.cases {
					h := bpfhostCtxRun(prog, pkt, c.ctx, c.outOnly, tt.ctxSize)
					k := kernelCtxRun(kprog, pkt, c.ctx, c.outOnly, tt.ctxSize)
					if k != h {
						t.Errorf("%s, context %s:\nkernel:  %s\nbpfhost: %s", engine, c.name, k, h)
					}
				}
				coll.Close()
			}
		})
	}
}

// ctxRun describes one test run: retval, data_out and ctx_out in hex, or
// that the run was refused.
func ctxRunString(ret uint32, dataOut, ctxOut []byte, err error) string {
	if err != nil {
		return "refused"
	}
	return fmt.Sprintf("retval %#x data_out %x ctx_out %x", ret, dataOut, ctxOut)
}

func kernelCtxRun(prog *ebpf.Program, pkt, ctx []byte, outOnly bool, ctxSize int) string {
	opts := &ebpf.RunOptions{Data: pkt, DataOut: make([]byte, len(pkt)+256)}
	ctxOut := make([]byte, ctxSize)
	if ctx != nil {
		opts.Context = ctx
	}
	if ctx != nil || outOnly {
		opts.ContextOut = ctxOut
	}
	ret, err := prog.Run(opts)
	if ctx == nil && !outOnly {
		ctxOut = nil
	}
	return ctxRunString(ret, opts.DataOut, ctxOut, err)
}

func bpfhostCtxRun(prog *bpfhost.Program, pkt, ctx []byte, outOnly bool, ctxSize int) string {
	opts := &bpfhost.RunOptions{Data: pkt, DataOut: []byte{}}
	var ctxOut []byte
	if ctx != nil {
		opts.Context = ctx
	}
	if ctx != nil || outOnly {
		ctxOut = make([]byte, ctxSize)
		opts.ContextOut = ctxOut
	}
	ret, err := prog.Run(opts)
	if errors.Is(err, bpfhost.ErrNotSupported) || (err != nil && !errors.Is(err, bpfhost.ErrInvalid)) {
		return "error: " + err.Error()
	}
	return ctxRunString(ret, opts.DataOut, ctxOut, err)
}

// TestAgreementCLIContext checks that bpfhost run --ctx-in/--ctx-out/
// --data-out writes the same bytes as bpftool prog run with ctx_in, ctx_out
// and data_out, for an XDP and a tc program.
func TestAgreementCLIContext(t *testing.T) {
	requireKernel(t)
	bpftool, err := exec.LookPath("bpftool")
	if err != nil {
		t.Skip("no bpftool")
	}
	dir := t.TempDir()
	fs := filepath.Join(dir, "bpffs")
	if err := os.Mkdir(fs, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("bpf", fs, "bpf", 0, ""); err != nil {
		t.Skipf("cannot mount a BPF file system: %v", err)
	}
	defer unix.Unmount(fs, unix.MNT_DETACH)
	bin := filepath.Join(dir, "bpfhost")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/bpfhost").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pkt := write("pkt.bin", ctxPacket())
	const (
		mark, cb, tstamp, wireLen, gsoSegs, gsoSize, hwtstamp = 8, 48, 152, 160, 164, 176, 184
	)
	for _, tt := range []struct {
		object, program, typ string
		ctx                  []byte
	}{
		{"examples/firewall.o", "xdp_firewall", "xdp", xdpCtx(0, 64, 0, 0, 0, 0)},
		{"examples/firewall.o", "xdp_firewall", "xdp", xdpCtx(8, 64, 0, 1, 0, 0)},
		{"testdata/agreement/skb.o", "tc_classify", "tc", skbCtx(map[int]uint32{mark: 5, cb + 4: 9, wireLen: 100, gsoSegs: 2, gsoSize: 1000},
			map[int]uint64{tstamp: 77, hwtstamp: 88})},
		{"testdata/agreement/skb.o", "tc_classify", "tc", make([]byte, 192)},
	} {
		pins := filepath.Join(fs, fmt.Sprintf("%s-%d", tt.program, time.Now().UnixNano()))
		if out, err := exec.Command(bpftool, "prog", "loadall", tt.object, pins, "type", tt.typ).CombinedOutput(); err != nil {
			t.Fatalf("bpftool prog loadall %s: %v\n%s", tt.object, err, out)
		}
		ctx := write("ctx.bin", tt.ctx)
		kctx, kdata := filepath.Join(dir, "kctx"), filepath.Join(dir, "kdata")
		if out, err := exec.Command(bpftool, "prog", "run", "pinned", filepath.Join(pins, tt.program),
			"data_in", pkt, "ctx_in", ctx, "ctx_out", kctx, "data_out", kdata).CombinedOutput(); err != nil {
			t.Fatalf("bpftool prog run: %v\n%s", err, out)
		}
		hctx, hdata := filepath.Join(dir, "hctx"), filepath.Join(dir, "hdata")
		if out, err := exec.Command(bin, "run", tt.object, "--program", tt.program, "--data", pkt,
			"--ctx-in", ctx, "--ctx-out", hctx, "--data-out", hdata).CombinedOutput(); err != nil {
			t.Fatalf("bpfhost run: %v\n%s", err, out)
		}
		for _, pair := range [][2]string{{kctx, hctx}, {kdata, hdata}} {
			k, _ := os.ReadFile(pair[0])
			h, _ := os.ReadFile(pair[1])
			if !bytes.Equal(k, h) {
				t.Errorf("%s %x: %s differs:\nbpftool: %x\nbpfhost: %x", tt.program, tt.ctx, filepath.Base(pair[0])[1:], k, h)
			}
		}
		os.RemoveAll(pins)
	}
}
