package sockaddr

import (
	"bytes"
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// memWrites scatters data over as many buffers as a receive may have
// (UIO_MAXIOV), cut to the data's length, and adds the address and length
// writes after it, splitting the process_vm_writev calls where the iovec
// count demands it; a write to an unmapped address is EFAULT.
func TestMemWrites(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	w := newWorker(&Link{})
	w.task.reset(unix.Gettid()) // write into this process

	const pieces = maxIov
	dst := make([]byte, 3*pieces) // pieces of 3 bytes
	var to []unix.RemoteIovec
	for i := 0; i < pieces; i++ {
		to = append(to, unix.RemoteIovec{Base: uintptr(unsafe.Pointer(&dst[3*i])), Len: 3})
	}
	// All pieces but the last byte: with the address written before, the
	// data needs a call of its own, and the last piece is cut.
	data := bytes.Repeat([]byte("abcdefg"), pieces)[:3*pieces-1]
	name, nameLen := make([]byte, 16), make([]byte, 4)
	src := []byte("0123456789abcdef")
	ln := []byte{16, 0, 0, 0}

	w.out.reset()
	w.out.add(w, uint64(uintptr(unsafe.Pointer(&name[0]))), src[:8])
	w.out.scatter(w, data, to)
	w.out.add(w, uint64(uintptr(unsafe.Pointer(&nameLen[0]))), ln)
	w.out.add(w, 0x10, nil) // nothing to write: skipped
	if e := w.out.flush(w); e != 0 {
		t.Fatalf("flush: %v", e)
	}
	if !bytes.Equal(dst[:len(data)], data) || !bytes.Equal(dst[len(data):], make([]byte, len(dst)-len(data))) {
		t.Error("scattered data wrong, or written past its length")
	}
	if !bytes.Equal(name[:8], src[:8]) || !bytes.Equal(name[8:], make([]byte, 8)) || !bytes.Equal(nameLen, ln) {
		t.Errorf("name %q, length %v", name, nameLen)
	}

	w.out.reset()
	w.out.add(w, 0x10, src) // the zero page is not mapped
	w.out.add(w, uint64(uintptr(unsafe.Pointer(&name[0]))), src)
	if e := w.out.flush(w); e != unix.EFAULT {
		t.Errorf("write to an unmapped address: %v, want EFAULT", e)
	}
	if e := w.out.flush(w); e != unix.EFAULT {
		t.Errorf("the error is kept until reset: %v", e)
	}
}
