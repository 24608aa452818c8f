package remote

import (
	"context"
	"net/http"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// AttachXDP attaches an XDP program to a device (and, with peer, bridges
// it to peer), as "bpftool net attach xdp" does; the daemon keeps the link
// until it is detached, also across restarts.
func (c *Client) AttachXDP(ctx context.Context, prog api.Ref, dev, peer string) (api.LinkInfo, error) {
	var res api.LinkInfo
	return res, c.post(ctx, api.PathNetAttach, api.NetAttachRequest{Prog: prog, Dev: dev, Peer: peer}, &res)
}

// DetachXDP detaches the XDP program of a device.
func (c *Client) DetachXDP(ctx context.Context, dev string) error {
	return c.post(ctx, api.PathNetDetach, api.NetDetachRequest{Dev: dev}, nil)
}

// Links lists the links.
func (c *Client) Links(ctx context.Context) ([]api.LinkInfo, error) {
	var res []api.LinkInfo
	return res, c.call(ctx, http.MethodGet, api.PathLinkList, nil, &res)
}

// Link describes one link, named by ID or pin.
func (c *Client) Link(ctx context.Context, r api.Ref) (api.LinkInfo, error) {
	var res api.LinkInfo
	return res, c.post(ctx, api.PathLinkGet, api.LinkRequest{Link: r}, &res)
}

// PinLink pins a link at path.
func (c *Client) PinLink(ctx context.Context, r api.Ref, path string) error {
	return c.post(ctx, api.PathLinkPin, api.PinRequest{Ref: r, Path: path}, nil)
}

// DetachLink detaches a link.
func (c *Client) DetachLink(ctx context.Context, r api.Ref) error {
	return c.post(ctx, api.PathLinkDetach, api.LinkRequest{Link: r}, nil)
}

// Jited lists a program's machine code by eBPF instruction (bpftool prog
// dump jited).
func (c *Client) Jited(ctx context.Context, r api.Ref) ([]api.JitedBlock, error) {
	var res []api.JitedBlock
	return res, c.post(ctx, api.PathProgJited, api.ProgRequest{Prog: r}, &res)
}
