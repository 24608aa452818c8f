package object

import "strings"

// noAutoloadPrefix begins the section name of a program that libbpf does
// not load unless asked: SEC("?xdp") is an XDP program whose
// bpf_program__autoload() is false until bpf_program__set_autoload(prog,
// true). The selftests write most of their negative tests that way, so
// that loading the object loads only the programs that should succeed.
const noAutoloadPrefix = "?"

// splitAutoload parses libbpf's "?" prefix off an ELF section name, the one
// place it is read (docs/decisions/0042-autoload.md): the section the
// program type comes from, and whether the program is loaded
// automatically. As in libbpf, only the first character counts; the rest
// is the section name ("??xdp" is section "?xdp", which names no type).
func splitAutoload(elfSection string) (section string, autoload bool) {
	if rest, ok := strings.CutPrefix(elfSection, noAutoloadPrefix); ok {
		return rest, false
	}
	return elfSection, true
}
