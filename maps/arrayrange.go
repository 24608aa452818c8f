package maps

import "unsafe"

// ReadAt copies len(dst) bytes from offset off of the value at index of an
// array that is not per-CPU, as user space reads a global variable through
// a memory-mapped data section (cilium/ebpf's Variable.Get). Words shared
// with neighbouring bytes are read atomically, as Lookup reads them.
func (a *ArrayMap) ReadAt(index uint32, off int, dst []byte) error {
	const op = "read"
	if err := a.userRead(op); err != nil {
		return err
	}
	p, err := a.rangePtr(op, index, off, len(dst))
	if err != nil {
		return err
	}
	loadBytes(dst, p)
	return nil
}

// WriteAt copies src to offset off of the value at index of an array that
// is not per-CPU, leaving the other bytes of the value as they are, even
// those that programs write meanwhile (cilium/ebpf's Variable.Set). Frozen
// and read-only maps refuse with ErrPermission, as Update does.
func (a *ArrayMap) WriteAt(index uint32, off int, src []byte) error {
	const op = "write"
	if err := a.userWrite(op); err != nil {
		return err
	}
	p, err := a.rangePtr(op, index, off, len(src))
	if err != nil {
		return err
	}
	storeBytes(p, src)
	return nil
}

// rangePtr checks a range of a value for ReadAt and WriteAt and returns its
// address. Values with a spin lock or timer are refused: their special
// fields are not user space's to read or write.
func (a *ArrayMap) rangePtr(op string, index uint32, off, n int) (unsafe.Pointer, error) {
	switch {
	case a.percpu:
		return nil, a.errorf(op, EOPNOTSUPP, "ranges of per-CPU values")
	case len(a.vals.holes) > 0:
		return nil, a.errorf(op, EOPNOTSUPP, "ranges of values with a spin lock or timer")
	case index >= a.n:
		return nil, opError(a.spec.Name, op, ENOENT, "")
	case off < 0 || n < 0 || off > int(a.spec.ValueSize) || n > int(a.spec.ValueSize)-off:
		return nil, a.errorf(op, EINVAL, "%d bytes at offset %d of a %d-byte value", n, off, a.spec.ValueSize)
	}
	return unsafe.Add(a.ptr(index, 0), off), nil
}
