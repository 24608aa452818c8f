package helpers

import (
	"encoding/binary"
	"fmt"

	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// The open-coded number iterator (kfuncs, docs/decisions/0037): struct
// bpf_iter_num is 8 bytes of the program's stack holding two ints, the
// current value and the end, as Linux's struct bpf_iter_num_kern. The
// verifier proves that the program cannot write them (a live iterator's
// slot is only the kfuncs'), and each kfunc reads and writes only those 8
// bytes, so whatever they hold, next returns NULL or a pointer to them.
// An iterator yields at most linux.IterNumMaxLoops values; the loop around
// it pays for its instructions like any other code (decision 0012).

// Errors bpf_iter_num_new returns, as Linux's.
const (
	errnoE2BIG  = 7
	errnoEINVAL = 22
)

// Kfuncs returns the implemented kfuncs, keyed by their numbers in the
// Linux ABI's kfunc table (linux.KfuncIterNumNew, ...): the table of
// vm.Program.Kfuncs. They need no host.
func Kfuncs() vm.Helpers {
	return vm.Helpers{
		int32(linux.KfuncIterNumNew):     iterNumNew,
		int32(linux.KfuncIterNumNext):    iterNumNext,
		int32(linux.KfuncIterNumDestroy): iterNumDestroy,
	}
}

// iterNum returns the iterator's 8 bytes at addr, checked in checked runs.
func iterNum(rc *vm.RunContext, addr uint64, name string) ([]byte, error) {
	if err := rc.CheckArg(addr, 8, true); err != nil {
		return nil, fmt.Errorf("%s: iterator: %w", name, err)
	}
	return vm.Bytes(addr, 8), nil
}

func putIter(b []byte, cur, end int32) {
	binary.LittleEndian.PutUint32(b, uint32(cur))
	binary.LittleEndian.PutUint32(b[4:], uint32(end))
}

// iterNumNew is bpf_iter_num_new(it, start, end): the values start..end-1;
// an empty iterator and -EINVAL if start > end, -E2BIG if there are more
// than linux.IterNumMaxLoops of them.
func iterNumNew(rc *vm.RunContext, it, start, end, _, _ uint64) (uint64, error) {
	b, err := iterNum(rc, it, "bpf_iter_num_new")
	if err != nil {
		return 0, err
	}
	s, e := int32(start), int32(end)
	switch {
	case s > e:
		putIter(b, 0, 0)
		return ret(-errnoEINVAL), nil
	case int64(e)-int64(s) > linux.IterNumMaxLoops:
		putIter(b, 0, 0)
		return ret(-errnoE2BIG), nil
	}
	putIter(b, s-1, e) // next steps to start first; wrapping is harmless
	return 0, nil
}

// iterNumNext is bpf_iter_num_next(it): the address of the next value, or
// NULL (0) once the values are used up, and from then on.
func iterNumNext(rc *vm.RunContext, it, _, _, _, _ uint64) (uint64, error) {
	b, err := iterNum(rc, it, "bpf_iter_num_next")
	if err != nil {
		return 0, err
	}
	cur := int32(binary.LittleEndian.Uint32(b))
	end := int32(binary.LittleEndian.Uint32(b[4:]))
	if int64(cur+1) >= int64(end) {
		putIter(b, 0, 0)
		return 0, nil
	}
	binary.LittleEndian.PutUint32(b, uint32(cur+1))
	return it, nil
}

// iterNumDestroy is bpf_iter_num_destroy(it).
func iterNumDestroy(rc *vm.RunContext, it, _, _, _, _ uint64) (uint64, error) {
	b, err := iterNum(rc, it, "bpf_iter_num_destroy")
	if err != nil {
		return 0, err
	}
	putIter(b, 0, 0)
	return 0, nil
}
