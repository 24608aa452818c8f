package api

// PathMapCreate creates a map on its own and pins it (MapCreateRequest),
// as "bpftool map create" does; it answers the map's MapInfo.
const PathMapCreate = "/" + Version + "/map/create"

// MapCreateRequest creates a map, as BPF_MAP_CREATE does, pinned at Path.
// It lives while it is pinned (or a program or map holds it), and the
// daemon keeps it, with its contents, across restarts.
type MapCreateRequest struct {
	Path string `json:"path"`
	// Type is the map type's name as bpftool and libbpf write it
	// ("hash", "percpu_array", "hash_of_maps").
	Type       string `json:"type"`
	KeySize    uint32 `json:"key"`
	ValueSize  uint32 `json:"value"`
	MaxEntries uint32 `json:"entries"`
	Name       string `json:"name"`
	Flags      uint32 `json:"flags,omitempty"`
	// InnerMap names the map whose type, sizes and flags the maps a map
	// of maps holds must have (bpftool's "inner_map MAP").
	InnerMap *Ref `json:"inner_map,omitempty"`
}
