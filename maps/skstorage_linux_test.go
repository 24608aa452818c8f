package maps

import (
	"errors"
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"
)

// kernelSkStorage creates the kernel's sk storage map for spec (with the
// BTF Linux requires), or returns its errno.
func kernelSkStorage(spec Spec) (*ebpf.Map, error) {
	var value btf.Type = &btf.Array{Index: &btf.Int{Size: 4}, Type: &btf.Int{Name: "char", Size: 1, Encoding: btf.Char}, Nelems: spec.ValueSize}
	return ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.SkStorage, KeySize: spec.KeySize, ValueSize: spec.ValueSize, MaxEntries: spec.MaxEntries,
		Flags: spec.Flags, Key: &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}, Value: value})
}

// The kernel gives each spec case the verdict bpfhost gives it. Needs
// root.
func TestSkStorageSpecKernel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create kernel maps")
	}
	for _, c := range skStorageSpecCases {
		km, err := kernelSkStorage(c.spec)
		if km != nil {
			km.Close()
		}
		var errno unix.Errno
		switch {
		case err == nil:
		case errors.As(err, &errno):
		default:
			t.Fatalf("%s: %v", c.name, err)
		}
		if Errno(errno) != c.want {
			t.Errorf("%s: the kernel says %v, bpfhost's case wants errno %d", c.name, err, c.want)
		}
	}
}

// User space names a socket's value by the socket's file descriptor, as in
// Linux: bpfhost's map and the kernel's answer the same operations alike.
func TestSkStorageUserSide(t *testing.T) {
	sock, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(sock)
	var pipe [2]int
	if err := unix.Pipe(pipe[:]); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pipe[0])
	defer unix.Close(pipe[1])
	m, err := New(skSpec(4), 1)
	if err != nil {
		t.Fatal(err)
	}
	type op struct {
		name string
		do   func(key []byte) error
	}
	val := []byte{1, 2, 3, 4}
	out := make([]byte, 4)
	ops := func(mp interface {
		Lookup(k, v []byte) error
		Update(k, v []byte, f UpdateFlags) error
		Delete(k []byte) error
	}) []op {
		return []op{
			{"lookup of none", func(k []byte) error { return mp.Lookup(k, out) }},
			{"update exist of none", func(k []byte) error { return mp.Update(k, val, UpdateExist) }},
			{"update", func(k []byte) error { return mp.Update(k, val, UpdateAny) }},
			{"update noexist", func(k []byte) error { return mp.Update(k, val, UpdateNoExist) }},
			{"lookup", func(k []byte) error { return mp.Lookup(k, out) }},
			{"delete", func(k []byte) error { return mp.Delete(k) }},
			{"delete again", func(k []byte) error { return mp.Delete(k) }},
		}
	}
	got := map[string]Errno{}
	for _, fd := range []int{sock, pipe[0], 999} {
		for _, o := range ops(m) {
			got[o.name+key32name(fd, sock, pipe[0])] = ErrnoOf(o.do(key32(uint32(fd))))
		}
	}
	if got["lookup/socket"] != 0 || got["delete again/socket"] != ENOENT || got["lookup/pipe"] != enotsock || got["update/closed"] != EBADF {
		t.Errorf("bpfhost: %v", got)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to compare with the kernel's map")
	}
	km, err := kernelSkStorage(skSpec(4))
	if err != nil {
		t.Skipf("kernel sk storage: %v", err)
	}
	defer km.Close()
	kmap := kernelOps{km}
	for _, fd := range []int{sock, pipe[0], 999} {
		for _, o := range ops(kmap) {
			var errno unix.Errno
			kerr := o.do(key32(uint32(fd)))
			if kerr != nil && !errors.As(kerr, &errno) {
				t.Fatalf("%s: %v", o.name, kerr)
			}
			if name := o.name + key32name(fd, sock, pipe[0]); Errno(errno) != got[name] {
				t.Errorf("%s: kernel %v, bpfhost errno %d", name, kerr, got[name])
			}
		}
	}
}

func key32name(fd, sock, pipe int) string {
	switch fd {
	case sock:
		return "/socket"
	case pipe:
		return "/pipe"
	}
	return "/closed"
}

// kernelOps adapts a kernel map to the operations the test makes.
type kernelOps struct{ m *ebpf.Map }

func (k kernelOps) Lookup(key, v []byte) error { return k.m.Lookup(key, v) }
func (k kernelOps) Update(key, v []byte, f UpdateFlags) error {
	return k.m.Update(key, v, ebpf.MapUpdateFlags(f))
}
func (k kernelOps) Delete(key []byte) error { return k.m.Delete(key) }
