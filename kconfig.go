package bpfhost

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/object"
)

// ErrKernelConfig is wrapped by the errors about kernel configuration
// values: a file that cannot be read or parsed, a value that does not fit
// its __kconfig variable.
var ErrKernelConfig = errors.New("kernel config")

// KernelConfig holds the values that extern __kconfig variables read
// (docs/decisions/0028-kconfig.md): CONFIG_* options as Linux's .config
// file spells them ("y", "m", "n", numbers, quoted strings), and
// LINUX_KERNEL_VERSION, LINUX_HAS_SYSCALL_WRAPPER and the like, which
// libbpf computes from the running kernel and a config file may give.
type KernelConfig struct {
	values map[string]string
}

// Value returns the value of name as the configuration spells it, and
// whether it has one.
func (k *KernelConfig) Value(name string) (string, bool) {
	v, ok := k.values[name]
	return v, ok
}

// ParseKernelConfig reads a kernel configuration in Linux's .config format
// (gzip-compressed, as /proc/config.gz, or not): "NAME=value" lines, and
// "# NAME is not set" comments, which set NAME to "n". Names other than
// CONFIG_* are allowed, so that a file can give LINUX_KERNEL_VERSION (a
// number or a release such as 6.1.0) for a kernel that is not the running
// one.
func ParseKernelConfig(r io.Reader) (*KernelConfig, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrKernelConfig, err)
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	k := &KernelConfig{values: map[string]string{}}
	sc := bufio.NewScanner(br)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if name, ok := strings.CutSuffix(line, " is not set"); ok && strings.HasPrefix(name, "# ") {
			k.values[strings.TrimSpace(name[2:])] = "n"
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || name == "" || strings.ContainsAny(name, " \t\"") {
			return nil, fmt.Errorf("%w: line %d: %q is not NAME=value", ErrKernelConfig, n, line)
		}
		k.values[name] = value
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKernelConfig, err)
	}
	return k, nil
}

// ReadKernelConfig reads the kernel configuration file at path (see
// ParseKernelConfig).
func ReadKernelConfig(path string) (*KernelConfig, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKernelConfig, err)
	}
	defer f.Close()
	k, err := ParseKernelConfig(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// kernelConfigs caches the configurations read, by path ("" for the
// running kernel's), for the life of the process, as loadKernelBTF does.
var kernelConfigs struct {
	sync.Mutex
	byPath map[string]*KernelConfig
}

// loadKernelConfig is the configuration in the file at path, or the
// running kernel's when path is empty: on Linux, its config from
// /boot/config-RELEASE or /proc/config.gz (none is no error: CONFIG_*
// values are then unknown), LINUX_KERNEL_VERSION from its release, and
// LINUX_HAS_SYSCALL_WRAPPER from its symbols, as libbpf finds them. Other
// systems have no kernel configuration of their own: an empty one.
func loadKernelConfig(path string) (*KernelConfig, error) {
	kernelConfigs.Lock()
	defer kernelConfigs.Unlock()
	if k := kernelConfigs.byPath[path]; k != nil {
		return k, nil
	}
	var k *KernelConfig
	var err error
	if path != "" {
		k, err = ReadKernelConfig(path)
	} else {
		k, err = runningKernelConfig()
	}
	if err != nil {
		return nil, err
	}
	if kernelConfigs.byPath == nil {
		kernelConfigs.byPath = map[string]*KernelConfig{}
	}
	kernelConfigs.byPath[path] = k
	return k, nil
}

func runningKernelConfig() (*KernelConfig, error) {
	k := &KernelConfig{values: map[string]string{}}
	if runtime.GOOS != "linux" {
		return k, nil
	}
	rel, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return k, nil
	}
	release := strings.TrimSpace(string(rel))
	for _, path := range []string{"/boot/config-" + release, "/proc/config.gz"} {
		if f, err := ReadKernelConfig(path); err == nil {
			k = f
			break
		}
	}
	if _, ok := k.values["LINUX_KERNEL_VERSION"]; !ok {
		k.values["LINUX_KERNEL_VERSION"] = release
	}
	if _, ok := k.values["LINUX_HAS_SYSCALL_WRAPPER"]; !ok {
		k.values["LINUX_HAS_SYSCALL_WRAPPER"] = "0"
		if hasSyscallWrapper() {
			k.values["LINUX_HAS_SYSCALL_WRAPPER"] = "1"
		}
	}
	return k, nil
}

// syscallPrefixes are the prefixes of the syscall wrappers' symbols by
// architecture, as libbpf knows them (arch_specific_syscall_pfx).
var syscallPrefixes = map[string]string{
	"amd64": "__x64_", "386": "__ia32_", "arm64": "__arm64_", "arm": "__arm_",
	"s390x": "__s390x_", "ppc64le": "", "ppc64": "", "riscv64": "__riscv_", "loong64": "",
}

// hasSyscallWrapper reports whether the running kernel's syscalls are
// wrapped (their entry points take a struct pt_regs): its symbols include
// the architecture's wrapper of bpf(2), as libbpf probes.
func hasSyscallWrapper() bool {
	pfx := syscallPrefixes[runtime.GOARCH]
	if pfx == "" {
		return false
	}
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		return false
	}
	defer f.Close()
	want := " " + pfx + "sys_bpf"
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasSuffix(line, want) || strings.Contains(line, want+"\t") {
			return true
		}
	}
	return false
}

// kernelVersionCode is Linux's KERNEL_VERSION(a, b, c) of a release such as
// "6.1.0-13-amd64", with the patch level capped at 255 as libbpf does, or a
// number given as it is.
func kernelVersionCode(s string) (uint64, error) {
	if v, err := strconv.ParseUint(s, 0, 32); err == nil {
		return v, nil
	}
	var parts [3]uint64
	rest := s
	n := 0
	for n < len(parts) {
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j == 0 || j > 5 {
			break
		}
		parts[n], _ = strconv.ParseUint(rest[:j], 10, 32)
		n++
		rest = rest[j:]
		if !strings.HasPrefix(rest, ".") {
			break
		}
		rest = rest[1:]
	}
	if n < 2 {
		return 0, fmt.Errorf("%q is not a kernel release", s)
	}
	return min(parts[0], 255)<<16 | min(parts[1], 255)<<8 | min(parts[2], 255), nil
}

// encodeKconfig writes the value of one __kconfig variable into data (the
// .kconfig section), as libbpf encodes it for the variable's kind.
func encodeKconfig(data []byte, v *object.VariableSpec, value string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: %s=%s for %s %s: %s", ErrKernelConfig, v.Name, value, v.Type, v.Name, why)
	}
	out := data[v.Offset : v.Offset+v.Size]
	tri := func() (byte, bool) {
		if len(value) == 1 && strings.Contains("ymn", value) {
			return value[0], true
		}
		return 0, false
	}
	switch v.Kconfig {
	case object.KconfigBool:
		// y or n, or a number no greater than 1 as libbpf's
		// set_kcfg_value_num takes it: LINUX_HAS_SYSCALL_WRAPPER, an
		// extern bool, is 0 or 1.
		c, ok := tri()
		if n, err := strconv.ParseUint(value, 0, 64); err == nil && n <= 1 {
			c, ok = "ny"[n], true
		}
		if !ok || c == 'm' {
			return bad("a bool takes y, n, 0 or 1")
		}
		if c == 'y' {
			out[0] = 1
		}
	case object.KconfigChar:
		c, ok := tri()
		if !ok {
			return bad("a char takes y, m or n")
		}
		out[0] = c
	case object.KconfigTristate:
		c, ok := tri()
		if !ok {
			return bad("a tristate takes y, m or n")
		}
		binary.NativeEndian.PutUint32(out[:min(4, len(out))], map[byte]uint32{'n': 0, 'y': 1, 'm': 2}[c])
	case object.KconfigString:
		s, err := strconv.Unquote(value)
		if err != nil || !strings.HasPrefix(value, "\"") {
			return bad("a char array takes a quoted string")
		}
		if len(s) >= len(out) {
			s = s[:len(out)-1] // truncated and terminated, as libbpf does
		}
		copy(out, s)
	case object.KconfigInt, object.KconfigSignedInt:
		var n uint64
		var err error
		if v.Name == "LINUX_KERNEL_VERSION" {
			n, err = kernelVersionCode(value)
		} else if v.Kconfig == object.KconfigSignedInt {
			var i int64
			i, err = strconv.ParseInt(value, 0, int(v.Size)*8)
			n = uint64(i)
		} else {
			n, err = strconv.ParseUint(value, 0, int(v.Size)*8)
		}
		if err != nil {
			return bad(fmt.Sprintf("not a number that fits %d bytes", v.Size))
		}
		var buf [8]byte
		binary.NativeEndian.PutUint64(buf[:], n)
		if len(out) > 8 {
			return bad("an integer of more than 8 bytes")
		}
		copy(out, buf[:len(out)]) // little-endian: the low bytes
	default:
		return bad("libbpf does not fill variables of this type")
	}
	return nil
}

// withKernelConfig returns spec with the values of its extern __kconfig
// variables filled in from the kernel configuration at path ("": the
// running kernel's, see loadKernelConfig): a copy when spec has a .kconfig
// section, spec itself otherwise. Variables the configuration has no value
// for read zero, as libbpf leaves weak ones.
func withKernelConfig(spec *CollectionSpec, path string) (*CollectionSpec, error) {
	if spec == nil || spec.Map(".kconfig") == nil {
		return spec, nil
	}
	k, err := loadKernelConfig(path)
	if err != nil {
		return nil, err
	}
	spec = spec.Copy()
	ms := spec.Map(".kconfig")
	data := make([]byte, ms.ValueSize)
	for _, v := range spec.Variables {
		if v.Map != ".kconfig" || uint64(v.Offset)+uint64(v.Size) > uint64(len(data)) || v.Size == 0 {
			continue
		}
		value, ok := k.Value(v.Name)
		if !ok {
			continue
		}
		if err := encodeKconfig(data, v, value); err != nil {
			return nil, err
		}
	}
	ms.Data = data
	return spec, nil
}

// isKconfig says the map is the .kconfig section that withKernelConfig
// fills and NewCollection freezes, whose bytes the verifier may read as
// constants.
func isKconfig(ms *MapSpec) bool {
	return ms.Name == ".kconfig" && ms.Flags&maps.FlagRdOnlyProg != 0 && ms.Type == object.MapTypeArray && ms.MaxEntries == 1
}
