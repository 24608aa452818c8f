package daemon

import (
	"strings"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/daemon/api"
)

// checkPinNames checks that the names a load pins under a directory are
// file names: the programs' with "all" (under the pin path) and the
// maps' with pinmaps. They come from the object, where a symbol can be
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
	if req.PinMaps != "" {
		for _, ms := range spec.Maps {
			if n := mapPinName(req.ObjectName, ms.Name); !fileName(n) {
				return errorf(api.CodeInvalid, "map %q: the name cannot be pinned under %s", ms.Name, req.PinMaps)
			}
		}
	}
	return nil
}

// fileName reports whether name is one element of a path.
func fileName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\x00")
}
