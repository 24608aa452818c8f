package remote

import (
	"context"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// CreateMap creates a map on its own and pins it, as "bpftool map create"
// does, and describes it.
func (c *Client) CreateMap(ctx context.Context, req api.MapCreateRequest) (api.MapInfo, error) {
	var res api.MapInfo
	return res, c.post(ctx, api.PathMapCreate, req, &res)
}
