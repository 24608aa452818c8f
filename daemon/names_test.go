package daemon

import "testing"

// TestLibbpfMapName: the names libbpf gives maps, as the kernel shows them
// (checked against bpftool by TestDaemonDataMapNamesAgreeWithBpftool in
// cmd/bpfhost), and the pin names under pinmaps.
func TestLibbpfMapName(t *testing.T) {
	for _, c := range []struct{ object, name, want, pin string }{
		{"config", ".rodata", "config.rodata", "config_rodata"},
		{"config", ".bss", "config.bss", "config_bss"},
		{"dispatcher", ".rodata", "dispatch.rodata", "dispatch_rodata"},
		{"dispatcher", ".data", "dispatch.data", "dispatch_data"},
		{"dispatcher", ".kconfig", "dispatc.kconfig", "dispatc_kconfig"},
		{"x", ".data.counters", ".data.counters", "_data_counters"},
		{"x", ".rodata.str1.1", ".rodata.str1.1", "_rodata_str1_1"},
		{"x", ".data.a_very_long_section", ".data.a_very_lo", "_data_a_very_lo"},
		{"my-prog", ".bss", "my_prog.bss", "my_prog_bss"},
		{"", ".rodata", ".rodata", ".rodata"},
		{"config", "counts", "counts", "counts"},
		{"config", "a_very_long_map_name_indeed", "a_very_long_map", "a_very_long_map_name_indeed"},
	} {
		if got := libbpfMapName(c.object, c.name); got != c.want {
			t.Errorf("libbpfMapName(%q, %q) = %q, want %q", c.object, c.name, got, c.want)
		}
		if got := mapPinName(c.object, c.name); got != c.pin {
			t.Errorf("mapPinName(%q, %q) = %q, want %q", c.object, c.name, got, c.pin)
		}
	}
}
