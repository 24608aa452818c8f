package main

import (
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/remote"
)

// benchObjects are the objects whose load time BenchmarkDaemonVsKernel
// measures: the examples and the daemon's counter, all of whose programs
// both load (loadall).
var benchObjects = []string{
	"../../examples/config.o", "../../examples/dispatcher.o", "../../examples/events.o",
	"../../examples/firewall.o", counterObj,
}

// BenchmarkDaemonVsKernel measures, in one invocation, the daemon beside the
// kernel (bench/daemon.sh prints medians and ratios). Sub-benchmarks are
// OPERATION/SIDE, where SIDE is bpfhost or kernel:
//
//   - lookup, update: one map lookup or acknowledged update of the counter's
//     hash map through the daemon's socket (remote.Client; an update is
//     msynced before the answer), and the same on the kernel's map with one
//     bpf() syscall (cilium/ebpf): the kernel's round trip.
//   - cli-lookup, cli-update: the same through a process, `bpfhost map
//     lookup|update pinned ...` against `bpftool map lookup|update pinned
//     ...` on the kernel's map pinned in a bpffs.
//   - load-OBJECT: `bpfhost prog loadall OBJ DIR` through the daemon (its
//     verifier child included, and the object persisted) against `bpftool
//     prog loadall OBJ DIR`, then unpinning both (rm for the bpffs).
//
// BPFHOST_BIN, if set, is the bpfhost binary to run as the daemon and the
// CLI (bench/daemon.sh builds one); else the test binary plays bpfhost.
// BPFHOST_BENCH_DAEMON_ARGS adds daemon flags (e.g. --verify-in-process, to
// see what the verifier child costs). It needs root: bpf() and a bpffs
// mount; without them it skips.
func BenchmarkDaemonVsKernel(b *testing.B) {
	bpftool, err := exec.LookPath("bpftool")
	if err != nil {
		b.Skip("no bpftool")
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		b.Skipf("bpf() not permitted: %v", err)
	}
	fs := b.TempDir()
	if err := unix.Mount("bpf", fs, "bpf", 0, ""); err != nil {
		b.Skipf("cannot mount a bpffs: %v", err)
	}
	b.Cleanup(func() { unix.Unmount(fs, unix.MNT_DETACH) })
	d := newTestDaemonProc(b)
	if bin := os.Getenv("BPFHOST_BIN"); bin != "" {
		d.bin = bin
	}
	d.args = strings.Fields(os.Getenv("BPFHOST_BENCH_DAEMON_ARGS"))
	d.start()
	c, err := remote.Dial(d.sock)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	obj, _ := filepath.Abs(counterObj)
	if _, err := c.Load(ctx, api.LoadRequest{Object: mustRead(b, obj), PinPath: "/b/counter", PinMaps: "/b/maps"}); err != nil {
		b.Fatal(err)
	}
	kpin := filepath.Join(fs, "counter")
	if out, err := exec.Command(bpftool, "prog", "load", obj, kpin, "pinmaps", filepath.Join(fs, "maps")).CombinedOutput(); err != nil {
		b.Fatalf("bpftool prog load: %v\n%s", err, out)
	}
	kmap, err := ebpf.LoadPinnedMap(filepath.Join(fs, "maps", "counts"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer kmap.Close()
	key, val := make([]byte, 4), make([]byte, 8)
	for i := uint32(0); i < 64; i++ {
		binary.NativeEndian.PutUint32(key, i)
		if err := c.Update(ctx, api.Ref{Pinned: "/b/maps/counts"}, key, val, 0); err != nil {
			b.Fatal(err)
		}
		if err := kmap.Update(key, val, ebpf.UpdateAny); err != nil {
			b.Fatal(err)
		}
	}
	counts := api.Ref{Pinned: "/b/maps/counts"}

	b.Run("lookup/bpfhost", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			binary.NativeEndian.PutUint32(key, uint32(i%64))
			if _, err := c.Lookup(ctx, counts, key); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("lookup/kernel", func(b *testing.B) {
		out := make([]byte, 8)
		for i := 0; b.Loop(); i++ {
			binary.NativeEndian.PutUint32(key, uint32(i%64))
			if err := kmap.Lookup(key, out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("update/bpfhost", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			binary.NativeEndian.PutUint32(key, uint32(i%64))
			binary.NativeEndian.PutUint64(val, uint64(i))
			if err := c.Update(ctx, counts, key, val, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("update/kernel", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			binary.NativeEndian.PutUint32(key, uint32(i%64))
			binary.NativeEndian.PutUint64(val, uint64(i))
			if err := kmap.Update(key, val, ebpf.UpdateAny); err != nil {
				b.Fatal(err)
			}
		}
	})

	keyArgs := []string{"key", "7", "0", "0", "0"}
	valArgs := []string{"value", "1", "2", "3", "4", "5", "6", "7", "8"}
	cli := func(b *testing.B, args ...string) {
		if _, errOut, code := d.cli(nil, args...); code != 0 {
			b.Fatalf("bpfhost %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
	}
	tool := func(b *testing.B, args ...string) {
		if out, err := exec.Command(bpftool, args...).CombinedOutput(); err != nil {
			b.Fatalf("bpftool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	kcounts := filepath.Join(fs, "maps", "counts")
	b.Run("cli-lookup/bpfhost", func(b *testing.B) {
		for b.Loop() {
			cli(b, append([]string{"map", "lookup", "pinned", "/b/maps/counts"}, keyArgs...)...)
		}
	})
	b.Run("cli-lookup/kernel", func(b *testing.B) {
		for b.Loop() {
			tool(b, append([]string{"map", "lookup", "pinned", kcounts}, keyArgs...)...)
		}
	})
	b.Run("cli-update/bpfhost", func(b *testing.B) {
		for b.Loop() {
			cli(b, append(append([]string{"map", "update", "pinned", "/b/maps/counts"}, keyArgs...), valArgs...)...)
		}
	})
	b.Run("cli-update/kernel", func(b *testing.B) {
		for b.Loop() {
			tool(b, append(append([]string{"map", "update", "pinned", kcounts}, keyArgs...), valArgs...)...)
		}
	})

	for _, o := range benchObjects {
		path, _ := filepath.Abs(o)
		name := strings.TrimSuffix(filepath.Base(o), ".o")
		b.Run("load-"+name+"/bpfhost", func(b *testing.B) {
			for b.Loop() {
				cli(b, "prog", "loadall", path, "/l/"+name)
				b.StopTimer()
				unpinAll(b, c, "/l/"+name)
				b.StartTimer()
			}
		})
		b.Run("load-"+name+"/kernel", func(b *testing.B) {
			dir := filepath.Join(fs, "l-"+name)
			for b.Loop() {
				tool(b, "prog", "loadall", path, dir)
				b.StopTimer()
				if err := os.RemoveAll(dir); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

// unpinAll removes every pin under dir in the daemon.
func unpinAll(b *testing.B, c *remote.Client, dir string) {
	progs, err := c.Programs(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range progs {
		for _, pin := range p.Pinned {
			if strings.HasPrefix(pin, dir+"/") {
				if err := c.Unpin(context.Background(), pin); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

func mustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
