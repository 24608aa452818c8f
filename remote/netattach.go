package remote

import (
	"context"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// NetAttach attaches an XDP program as req says, with all of its options
// (overwrite among them), as "bpftool net attach" does.
func (c *Client) NetAttach(ctx context.Context, req api.NetAttachRequest) (api.LinkInfo, error) {
	var res api.LinkInfo
	return res, c.post(ctx, api.PathNetAttach, req, &res)
}
