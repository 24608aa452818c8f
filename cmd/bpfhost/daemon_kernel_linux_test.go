package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestDaemonKernelDataAgreesWithBpftool: objects that need the running
// kernel's BTF or configuration load in the daemon, whose verifier child
// cannot open files, as with bpftool on Linux: CO-RE relocations resolved
// against the kernel BTF (core.o returns 3, where clang's own values give
// 7), a tp_btf program typed by it (ksrc/license_gpl.o) and an extern
// __kconfig that libbpf finds in the kernel's symbols (ksrc/kconfig.o).
// Before, the child verified without them while the daemon loaded with
// them: the CO-RE and __kconfig loads failed with a digest mismatch, the
// tp_btf one with "no kernel BTF ... operation not permitted".
func TestDaemonKernelDataAgreesWithBpftool(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skip("the kernel has no BTF")
	}
	s := newSideBySide(t)
	s.d.start()
	abs := func(p string) string {
		a, _ := filepath.Abs(p)
		return a
	}
	core := s.fs + "/core"
	if _, _, ok := s.both("prog", "load", abs("../../daemon/testdata/core.o"), core); !ok {
		t.Fatal("core.o did not load")
	}
	pkt := filepath.Join(t.TempDir(), "pkt")
	if err := os.WriteFile(pkt, make([]byte, 64), 0o644); err != nil {
		t.Fatal(err)
	}
	kout, hout, _ := s.both("-j", "prog", "run", "pinned", core, "data_in", pkt)
	var k, h struct {
		Retval int `json:"retval"`
	}
	json.Unmarshal([]byte(kout), &k)
	json.Unmarshal([]byte(hout), &h)
	if k.Retval != 3 || h.Retval != 3 {
		t.Errorf("CO-RE against the kernel BTF: kernel %d, bpfhost %d; want 3", k.Retval, h.Retval)
	}
	for i, obj := range []string{"../../testdata/ksrc/license_gpl.o", "../../testdata/ksrc/kconfig.o"} {
		if _, _, ok := s.both("prog", "loadall", abs(obj), fmt.Sprintf("%s/k%d", s.fs, i)); !ok {
			t.Errorf("%s did not load on both sides", obj)
		}
	}
}
