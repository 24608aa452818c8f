package bpfhost

import "testing"

// The LSM hook test objects (testdata/lsm): lsm.o's programs, verified
// against kernel.o, a small kernel BTF with the hooks' prototypes.
const (
	lsmObject = "testdata/lsm/lsm.o"
	lsmKernel = "testdata/lsm/kernel.o"
)

// lsmVerdicts are the verdicts on lsm.o's programs: "" for accepted, else
// a part of the message.
var lsmVerdicts = map[string]string{
	"errno_paths":          "",
	"unchecked_errno_one":  "",
	"unchecked_bool_two":   "",
	"void_any":             "",
	"bad_disabled":         "LSM hook getprocattr takes no BPF programs",
	"cgroup_one":           "",
	"bad_cgroup_minus_one": "must return a value in [0, 1]",
	"bad_cgroup_void_zero": "must return a value in [1, 1]",
	"cgroup_void_one":      "",
}

// TestLSMHooks verifies lsm.o's programs against kernel.o: Linux's rules
// for the hook an LSM program attaches to that bpfhost checks.
func TestLSMHooks(t *testing.T) {
	checkVerdicts(t, lsmObject, lsmKernel, lsmVerdicts)
}
