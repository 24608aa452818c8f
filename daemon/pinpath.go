package daemon

import (
	"strings"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/daemon/api"
)

// checkPinNames checks that the names a load pins under a directory are
// file names: the programs' with "all" (under the pin path), the maps'
// with pinmaps, and those of maps pinned by name (under PinRoot). They come from the object, where a symbol can be
// anything; joined to the directory, ".." or "a/../.." would put a pin
// outside it, even at "/", which no unpin accepts (checkPinPath).
// Linux's bpffs refuses such names in the same place.
func checkPinNames(spec *bpfhost.CollectionSpec, programs []string, req api.LoadRequest) error {
	if req.All {
		for _, n := range programs {
			if !fileName(n) {
				return errorf(api.CodeInvalid, "program %q: the name cannot be pinned under %s", n, req.PinPath)
			}
		}
	}
	for _, ms := range spec.Maps {
		dir := req.PinMaps
		if ms.Pinning == bpfhost.PinByName {
			dir = PinRoot // mapreuse.go's pinByName
		}
		if n := mapPinName(req.ObjectName, ms.Name); dir != "" && !fileName(n) {
			return errorf(api.CodeInvalid, "map %q: the name cannot be pinned under %s", ms.Name, dir)
		}
	}
	return nil
}

// fileName reports whether name is one element of a path.
func fileName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\x00")
}
