package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/bpfhost/bpfhost"
)

// byteSize is a flag value in bytes written as a number with an optional
// binary suffix: 1073741824, 1GiB, 512MiB, 64KiB (K, M, G, T alone mean the
// same). "0" or "none" means no limit, stored as -1.
type byteSize int64

var _ pflag.Value = (*byteSize)(nil)

func (b *byteSize) String() string {
	switch v := int64(*b); {
	case v < 0:
		return "none"
	case v > 0 && v%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", v>>30)
	case v > 0 && v%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", v>>20)
	default:
		return strconv.FormatInt(v, 10)
	}
}

func (b *byteSize) Set(s string) error {
	t := strings.TrimSpace(s)
	if t == "none" || t == "0" {
		*b = -1
		return nil
	}
	shift := 0
	for _, u := range []struct {
		suffix string
		shift  int
	}{{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40}, {"K", 10}, {"M", 20}, {"G", 30}, {"T", 40}, {"B", 0}} {
		if strings.HasSuffix(t, u.suffix) {
			t, shift = strings.TrimSuffix(t, u.suffix), u.shift
			break
		}
	}
	n, err := strconv.ParseUint(strings.TrimSpace(t), 10, 63)
	if err != nil || n > math.MaxInt64>>shift {
		return fmt.Errorf("%q: want a size in bytes such as 1073741824, 512MiB or 1GiB, or none", s)
	}
	*b = byteSize(n << shift)
	return nil
}

func (b *byteSize) Type() string { return "size" }

// memoryLimitFlag adds --memory-limit, the collection's map memory budget
// (CollectionOptions.MemoryLimit), to a command that loads objects.
func memoryLimitFlag(fs *pflag.FlagSet, v *byteSize) {
	*v = bpfhost.DefaultMemoryLimit
	fs.Var(v, "memory-limit", "most memory the object's maps may preallocate together (e.g. 512MiB, 2GiB; none: only the per-map cap)")
}

// explainLimit adds the flag that raises a limit to the error of a load or
// run that reached it.
func explainLimit(err error) error {
	if errors.Is(err, bpfhost.ErrMemoryLimit) {
		return fmt.Errorf("%w (raise the budget with --memory-limit)", err)
	}
	return err
}

// defaultTimeout is how long one input's runs may take unless --timeout
// says otherwise.
const defaultTimeout = 10 * time.Second

// runWithTimeout runs prog with a deadline of timeout (none if 0) and says
// which flag to change when the deadline stops the run.
func runWithTimeout(prog *bpfhost.Program, opts *bpfhost.RunOptions, timeout time.Duration) (uint32, error) {
	if timeout <= 0 {
		return prog.Run(opts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	opts.Ctx = ctx
	ret, err := prog.Run(opts)
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("run stopped at the deadline of %v (--timeout): %w", timeout, err)
	}
	return ret, err
}
