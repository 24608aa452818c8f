package daemon

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// TestKernelConfigReachesVerifier: the daemon's kernel configuration
// (Options.KernelConfig) reaches its isolated verifier (the request, and
// its digest) and its own load: kconfig.o's by_config reads the packet
// unchecked unless CONFIG_BPFHOST_TEST_FEATURE is 7, so the load is
// accepted with the test configuration and refused with an empty one.
// Before, the verifier child always used the running kernel's values.
func TestKernelConfigReachesVerifier(t *testing.T) {
	obj, err := os.ReadFile("../testdata/kconfig/kconfig.o")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		config string
		want   string // an api code, "" for loaded
	}{
		{"test.config", ""},
		{"empty.config", api.CodeRejected},
	} {
		var seen VerifyRequest
		d, err := New(Options{Engine: "interp", Logger: slog.New(slog.DiscardHandler),
			KernelConfig: filepath.Join("..", "testdata", "kconfig", tc.config),
			Verify: func(ctx context.Context, req VerifyRequest) (*Verdict, error) {
				seen = req
				return InProcessVerifier(ctx, req)
			}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.Load(ctx, api.LoadRequest{Object: obj, Program: "by_config", PinPath: "/k"})
		d.Close()
		if CodeOf(err) != tc.want && !(tc.want == "" && err == nil) {
			t.Errorf("%s: %v, want code %q", tc.config, err, tc.want)
		}
		if seen.KernelConfig != filepath.Join("..", "testdata", "kconfig", tc.config) {
			t.Errorf("%s: the verifier got kernel config %q", tc.config, seen.KernelConfig)
		}
	}
}
