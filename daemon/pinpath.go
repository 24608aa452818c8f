package daemon

import (
	"fmt"
	"strings"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/daemon/api"
)

// checkPinNames checks that the names a load pins under a directory are
// file names: the programs' with "all" (under the pin path), the maps'
// with pinmaps, and those of maps pinned by name (under PinRoot). They come from the object, where a symbol can be
// anything; joined to the directory, ".." or "a/../.." would put a pin
// outside it, even at "/", which no unpin accepts (checkPinPath); and
// the pins they make are new ones (checkNewPinPath).
// Linux's bpffs refuses such names in the same place.
func checkPinNames(spec *bpfhost.CollectionSpec, programs []string, req api.LoadRequest) error {
	if req.All {
		for _, n := range programs {
			if !fileName(n) {
				return errorf(api.CodeInvalid, "program %q: the name cannot be pinned under %s", n, req.PinPath)
			}
			if err := checkNewPinPath(req.PinPath + "/" + n); err != nil {
				return err
			}
		}
	}
	for _, ms := range spec.Maps {
		dir := req.PinMaps
		if ms.Pinning == bpfhost.PinByName {
			dir = PinRoot // mapreuse.go's pinByName
		}
		if dir == "" {
			continue
		}
		n := mapPinName(req.ObjectName, ms.Name)
		if !fileName(n) {
			return errorf(api.CodeInvalid, "map %q: the name cannot be pinned under %s", ms.Name, dir)
		}
		if err := checkNewPinPath(dir + "/" + n); err != nil {
			return err
		}
	}
	return nil
}

// Bounds of a new pin's path, Linux's: PATH_MAX (4096, with the NUL)
// for the path, NAME_MAX for each of its elements.
const (
	maxPinPath = 4096 - 1
	maxPinName = 255
)

// checkNewPinPath checks the path of a new pin: checkPinPath's rules, and
// Linux's bounds on its length (ENAMETOOLONG beyond them, as bpf_obj_pin
// says). Control characters (a newline, a tab, an escape) are refused,
// EINVAL, where bpffs would take them: a pin path is one line of "prog
// show" and of the daemon's log, and a newline in it would forge another
// (docs/daemon.md). Pins the state directory holds are restored with
// checkPinPath's rules only, and any pin can be unpinned: only new ones
// are held to these.
func checkNewPinPath(p string) error {
	if err := checkPinPath(p); err != nil {
		return err
	}
	if len(p) > maxPinPath {
		return errorf(api.CodeNameTooLong, "pin path of %d bytes: File name too long (at most %d, PATH_MAX)", len(p), maxPinPath)
	}
	for _, e := range strings.Split(p[1:], "/") {
		if len(e) > maxPinName {
			return errorf(api.CodeNameTooLong, "pin path %s: the name %.32q... of %d bytes: File name too long (at most %d, NAME_MAX)", truncPath(p), e, len(e), maxPinName)
		}
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f {
			return errorf(api.CodeInvalid, "pin path %q: a control character (%#02x at byte %d) cannot be in a pin path", truncPath(p), c, i)
		}
	}
	return nil
}

// truncPath is p, shortened for a message.
func truncPath(p string) string {
	if len(p) > 128 {
		return fmt.Sprintf("%s... (%d bytes)", p[:128], len(p))
	}
	return p
}

// fileName reports whether name is one element of a path.
func fileName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\x00")
}
