package maps

import (
	"errors"
	"fmt"
)

// Errno is a Linux error number. Program-side operations return it negated
// (as helpers do); user-space operations return errors that wrap both a
// sentinel error and the Errno, so errors.Is works with either.
type Errno uint32

// The Linux error numbers map operations report.
const (
	EPERM      Errno = 1
	ENOENT     Errno = 2
	E2BIG      Errno = 7
	EBADF      Errno = 9
	EAGAIN     Errno = 11
	ENOMEM     Errno = 12
	EFAULT     Errno = 14
	EBUSY      Errno = 16
	EEXIST     Errno = 17
	EINVAL     Errno = 22
	ENOSPC     Errno = 28
	enotsock   Errno = 88 // ENOTSOCK: an sk storage key that is no socket
	EOPNOTSUPP Errno = 95
	// ENOTSUPP is the kernel-internal "not supported" that some map
	// operations (ring buffer lookups, LRU without prealloc) leak to user space.
	ENOTSUPP Errno = 524
)

var errnoNames = map[Errno]string{
	EPERM: "EPERM", ENOENT: "ENOENT", E2BIG: "E2BIG", EBADF: "EBADF", EAGAIN: "EAGAIN", ENOMEM: "ENOMEM",
	EFAULT: "EFAULT", EBUSY: "EBUSY", EEXIST: "EEXIST", EINVAL: "EINVAL", ENOSPC: "ENOSPC",
	EOPNOTSUPP: "EOPNOTSUPP", ENOTSUPP: "ENOTSUPP", enotsock: "ENOTSOCK",
}

func (e Errno) Error() string {
	if s, ok := errnoNames[e]; ok {
		return s
	}
	return fmt.Sprintf("errno %d", uint32(e))
}

// Ret returns the value a helper hands a program for this error: -errno.
func (e Errno) Ret() int64 { return -int64(e) }

// Sentinel errors of map operations; test with errors.Is. ErrnoOf gives the
// Linux error number of any error this package returns.
var (
	ErrKeyNotExist  = errors.New("key does not exist")           // ENOENT
	ErrKeyExist     = errors.New("key already exists")           // EEXIST
	ErrFull         = errors.New("map is full or index too big") // E2BIG
	ErrNoSpace      = errors.New("no space left in map")         // ENOSPC (LPM trie full)
	ErrInvalid      = errors.New("invalid argument")             // EINVAL
	ErrNotSupported = errors.New("operation not supported")      // EOPNOTSUPP, ENOTSUPP
	ErrPermission   = errors.New("operation not permitted")      // EPERM (read-only, frozen)
	ErrAgain        = errors.New("try again")                    // EAGAIN (ring buffer full)
	ErrNoMemory     = errors.New("not enough memory")            // ENOMEM (over the size limit)
	ErrClosed       = errors.New("map closed")                   // EBADF
)

var sentinels = map[Errno]error{
	ENOENT: ErrKeyNotExist, EEXIST: ErrKeyExist, E2BIG: ErrFull, ENOSPC: ErrNoSpace,
	EINVAL: ErrInvalid, EOPNOTSUPP: ErrNotSupported, ENOTSUPP: ErrNotSupported,
	EPERM: ErrPermission, EAGAIN: ErrAgain, ENOMEM: ErrNoMemory, EBADF: ErrClosed,
}

// mapError is what user-space operations return: which map, which
// operation, and the cause as both sentinel and errno.
type mapError struct {
	name   string
	op     string
	detail string
	errno  Errno
	err    error
}

func (e *mapError) Error() string {
	what := e.err.Error()
	if e.detail != "" {
		what = e.detail
	}
	if e.op == "" {
		return fmt.Sprintf("map %q: %s", e.name, what)
	}
	return fmt.Sprintf("map %q: %s: %s", e.name, e.op, what)
}

// Unwrap lets errors.Is match the sentinel and the Errno.
func (e *mapError) Unwrap() []error { return []error{e.err, e.errno} }

// opError builds a user-space error from an errno; detail, if not empty,
// replaces the sentinel's text in the message.
func opError(name, op string, errno Errno, detail string) error {
	s, ok := sentinels[errno]
	if !ok {
		s = errno
	}
	return &mapError{name: name, op: op, detail: detail, errno: errno, err: s}
}

// ErrnoOf returns the Linux error number of an error from this package:
// 0 for nil, EINVAL for errors that carry none.
func ErrnoOf(err error) Errno {
	if err == nil {
		return 0
	}
	var e Errno
	if errors.As(err, &e) {
		return e
	}
	for errno, s := range sentinels {
		if errors.Is(err, s) && errno != ENOTSUPP {
			return errno
		}
	}
	return EINVAL
}

// retErr converts a program-side result (0 or -errno) into a user-space error.
func retErr(name, op string, ret int64) error {
	if ret == 0 {
		return nil
	}
	return opError(name, op, Errno(-ret), "")
}
