package bpfhost

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"unsafe"

	"github.com/bpfhost/bpfhost/helpers"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// Programs without a test run that containedRun still runs: those of the
// socket hooks, as the hooks run them, and those whose context is all
// numbers in Linux's layout (kprobe's pt_regs, a tracepoint's record), on
// random contexts.

// sockHook reports whether programs of the type run on the socket hooks
// (hooks/sockaddr): they have no test run, but Program.RunSockAddr and
// Program.RunSock run them as the hooks do.
func sockHook(info *platform.ProgramTypeInfo) bool {
	return info.Type == linux.CGroupSockAddr || info.Type == linux.CGroupSock
}

// numbersContext reports whether a type's programs take a context of
// numbers alone that bpfhost has no host layout for (kprobe, tracepoint,
// perf_event): such a program reads the context where Linux lays it out,
// so a random buffer of the context's size is a context it may run on.
func numbersContext(info *platform.ProgramTypeInfo) bool {
	d := info.Context
	if d == nil || d.Host != nil || d.Size <= 0 || len(info.EntryRegs()) != 1 || info.EntryRegs()[0] != platform.RegContext {
		return false
	}
	for _, f := range d.Fields {
		// A BTF-typed kernel pointer is a number the caller chooses: loads
		// through it read 0 outside the run's memory (btftyped.go).
		btf := f.Kind == platform.FieldBTFPointer && f.BTF.Type != 0
		if f.Kind != platform.FieldScalar && f.Kind != platform.FieldPadding && !btf {
			return false
		}
	}
	return true
}

// hookRunnable reports whether containedRun can run a program of the
// type that has no test run.
func hookRunnable(info *platform.ProgramTypeInfo) bool {
	return sockHook(info) || numbersContext(info)
}

// runHook runs a program without a test run (hookRunnable) once and
// returns its input for messages.
func runHook(p *Program, rng *rand.Rand) (string, error) {
	if numbersContext(p.info) {
		return runNumbers(p, rng)
	}
	return runSockHook(p, rng)
}

// runNumbers runs a program whose context is numbers (numbersContext) once
// on random ones, and returns them as the run's input for messages.
func runNumbers(p *Program, rng *rand.Rand) (string, error) {
	return runNumbersOn(p, rng, true)
}

// runNumbersOn is runNumbers; with intoRun false, BTF pointers are only
// wild or NULL, never addresses of the run's memory, so that no load or
// helper can find such an address in them (the leak check stays on).
func runNumbersOn(p *Program, rng *rand.Rand, intoRun bool) (string, error) {
	ctx := make([]byte, p.info.Context.Size)
	for i := range ctx {
		ctx[i] = byte(rng.Uint32())
	}
	// BTF pointers: wild (the random bytes), NULL, or into the context
	// itself, so that loads through them read memory of the run as well.
	for _, f := range p.info.Context.Fields {
		if f.Kind != platform.FieldBTFPointer {
			continue
		}
		switch rng.IntN(3) {
		case 0:
			binary.LittleEndian.PutUint64(ctx[f.Offset:], 0)
		case 1:
			if !intoRun {
				// A small number (a test run's arguments are any
				// numbers: as a count or a size it is taken at its
				// value), or a kernel-looking address whose low half is
				// past bpf_loop's limit.
				v := uint64(1 + rng.IntN(8))
				if rng.IntN(2) == 0 {
					v = 0xffff_8880_1000_0000 + uint64(rng.IntN(1<<20))
				}
				binary.LittleEndian.PutUint64(ctx[f.Offset:], v)
				break
			}
			binary.LittleEndian.PutUint64(ctx[f.Offset:], vm.Address(unsafe.Pointer(&ctx[0]))+uint64(rng.IntN(len(ctx))))
		}
	}
	run := &helpers.Run{Program: p.info.Type, Ctx: unsafe.Pointer(&ctx[0])}
	regions := []vm.Region{vm.RegionOf(p.info.Context.Name, ctx, false)}
	input := fmt.Sprintf("%s %x", p.info.Context.Name, ctx)
	return input, stoppable(func() error {
		_, _, err := p.exec(run, [5]uint64{vm.Address(unsafe.Pointer(&ctx[0]))}, regions, nil, &hookRun)
		return err
	})
}

// runSockHook runs a cgroup_sock_addr or cgroup_sock program once, as the
// socket hooks do, on a random address and socket (IPv4 or IPv6, TCP or
// UDP, mostly), and returns them as the run's input for messages.
func runSockHook(p *Program, rng *rand.Rand) (string, error) {
	sk := randomSock(rng)
	run := &SockRun{}
	if p.info.Type == linux.CGroupSock {
		input := fmt.Sprintf("bpf_sock %+v", *sk)
		return input, stoppable(func() error {
			_, err := p.RunSock(sk, run)
			return err
		})
	}
	ctx := &linux.SockAddrContext{
		UserFamily: sk.Family, UserIP4: rng.Uint32(), UserPort: rng.Uint32() & 0xffff,
		Family: sk.Family, Type: sk.Type, Protocol: sk.Protocol, MsgSrcIP4: rng.Uint32(),
	}
	for i := range ctx.UserIP6 {
		ctx.UserIP6[i], ctx.MsgSrcIP6[i] = rng.Uint32(), rng.Uint32()
	}
	input := fmt.Sprintf("bpf_sock_addr %+v, bpf_sock %+v", *ctx, *sk)
	return input, stoppable(func() error {
		_, err := p.RunSockAddr(ctx, sk, run)
		return err
	})
}

// randomSock returns a random socket, of the families, types and
// protocols programs test for most of the time.
func randomSock(rng *rand.Rand) *linux.SockContext {
	pick := func(common []uint32) uint32 {
		if rng.IntN(8) == 0 {
			return rng.Uint32()
		}
		return common[rng.IntN(len(common))]
	}
	sk := &linux.SockContext{
		BoundDevIf: rng.Uint32() & 7, Family: pick([]uint32{2, 10}), Type: pick([]uint32{1, 2}),
		Protocol: pick([]uint32{6, 17}), Mark: rng.Uint32(), Priority: rng.Uint32() & 7,
		SrcIP4: rng.Uint32(), SrcPort: rng.Uint32() & 0xffff, DstPort: uint16(rng.Uint32()),
		DstIP4: rng.Uint32(), State: rng.Uint32() & 15,
	}
	for i := range sk.SrcIP6 {
		sk.SrcIP6[i], sk.DstIP6[i] = rng.Uint32(), rng.Uint32()
	}
	return sk
}
