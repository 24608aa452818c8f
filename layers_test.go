package bpfhost_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/bpfhost/bpfhost"

// layers is what each package may import of ours: the "knows about" column
// of ../shared/DESIGN.md's package table, with the deviations recorded in
// docs/decisions/0008-package-layout.md and 0022-layers.md. Keys and values
// are paths in the module ("" is the root package). A row covers the
// subpackages of its key that have no row of their own (platform/linux is
// platform); an allowed name covers its subpackages too; the packages of a
// row may import each other (daemon/api, vm/jit imports vm).
var knows = map[string][]string{
	"isa":      {},
	"object":   {"isa"},
	"platform": {"isa"},
	"verifier": {"isa", "platform"},
	"vm":       {"isa", "platform"},
	"maps":     {"platform"},
	// helpers take helper IDs and prototypes from platform (0022).
	"helpers": {"maps", "vm", "platform"},
	"":        {"isa", "object", "platform", "verifier", "vm", "maps", "helpers"},
	// Beside the root, shaped like cilium/ebpf's packages of the same
	// names (0008, 0022).
	"ringbuf": {"", "maps"},
	"perf":    {"", "maps"},
	// Hooks build contexts through platform's descriptors (decision 8 of
	// DESIGN.md, 0022); internal/ethtool is hooks/xdp's ioctl wrapper.
	"hooks":      {"", "platform", "internal/ethtool"},
	"daemon":     {"", "hooks", "ringbuf", "perf", "isa"},
	"daemon/api": {},
	"remote":     {"daemon/api"},
	"cmd":        {"", "hooks", "remote", "daemon", "isa", "internal/conformance"},
	"internal":   {"", "isa", "object", "platform", "verifier", "vm", "maps", "helpers", "internal"},
	"bench":      {""},
	"examples":   {""},
}

// row returns the key of the row that covers pkg: pkg itself, else its
// longest parent that has one. The root row covers only the root package.
func row(pkg string) (string, bool) {
	for p := pkg; ; {
		if _, ok := knows[p]; ok {
			return p, true
		}
		i := strings.LastIndex(p, "/")
		if i < 0 {
			return "", false
		}
		p = p[:i]
	}
}

// within reports whether pkg is dir or one of its subpackages.
func within(pkg, dir string) bool {
	return dir == "" && pkg == "" || dir != "" && (pkg == dir || strings.HasPrefix(pkg, dir+"/"))
}

// violations returns "pkg imports dep" for every import of ours that pkg's
// row does not allow, and "pkg: no row" for a package without one.
func violations(imports map[string][]string) []string {
	var out []string
	for pkg, deps := range imports {
		key, ok := row(pkg)
		if !ok {
			out = append(out, strconv.Quote(pkg)+": no row in knows")
			continue
		}
	next:
		for _, dep := range deps {
			if key != "" && within(dep, key) {
				continue // a package of its own row (vm/jit imports vm)
			}
			for _, ok := range knows[key] {
				if within(dep, ok) {
					continue next
				}
			}
			out = append(out, strconv.Quote(pkg)+" imports "+strconv.Quote(dep))
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// moduleImports reads the imports of ours of every package of the module,
// from the files of every platform (build constraints are ignored, so a
// file for Windows counts too); test files are left out: tests may use
// lower packages as oracles.
func moduleImports(t *testing.T) map[string][]string {
	imports := map[string][]string{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != "." && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(path))
		if pkg == "." {
			pkg = ""
		}
		if _, ok := imports[pkg]; !ok {
			imports[pkg] = nil
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case p == module:
				imports[pkg] = append(imports[pkg], "")
			case strings.HasPrefix(p, module+"/"):
				imports[pkg] = append(imports[pkg], strings.TrimPrefix(p, module+"/"))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return imports
}

// TestLayers: no package imports a package of ours that DESIGN.md's table
// (with the recorded deviations) does not let it know about.
func TestLayers(t *testing.T) {
	imports := moduleImports(t)
	for _, pkg := range []string{"", "daemon", "hooks/xdp", "hooks/sockaddr", "isa"} {
		if _, ok := imports[pkg]; !ok {
			t.Fatalf("package %q not found: the walk is broken", pkg)
		}
	}
	for _, v := range violations(imports) {
		t.Error(v)
	}
}

// TestLayersCheck: the check finds what it must (a test that cannot fail
// proves nothing).
func TestLayersCheck(t *testing.T) {
	got := violations(map[string][]string{
		"daemon":         {"", "daemon/api", "maps", "hooks/xdp"},
		"hooks/sockaddr": {"helpers", "platform/linux"},
		"isa":            {"platform"},
		"remote":         {"daemon/api"},
		"newpkg":         {},
		"":               {"hooks/xdp"},
	})
	want := []string{
		`"" imports "hooks/xdp"`,
		`"daemon" imports "maps"`,
		`"hooks/sockaddr" imports "helpers"`,
		`"isa" imports "platform"`,
		`"newpkg": no row in knows`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestLayersRows: every row names a package directory that exists, so the
// table cannot keep rows for packages that are gone.
func TestLayersRows(t *testing.T) {
	for key := range knows {
		if key == "" {
			continue
		}
		if st, err := os.Stat(key); err != nil || !st.IsDir() {
			t.Errorf("row %q: no such package directory", key)
		}
	}
}
