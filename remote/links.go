package remote

import (
	"context"
	"fmt"
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

// NetDetach detaches the XDP program of a device in a mode (req.Mode), as
// "bpftool net detach MODE dev IF".
func (c *Client) NetDetach(ctx context.Context, req api.NetDetachRequest) error {
	return c.post(ctx, api.PathNetDetach, req, nil)
}

// NetShow lists the links of one device, as "bpftool net show dev IF"; a
// device that does not exist in the daemon's network namespace is an
// error.
func (c *Client) NetShow(ctx context.Context, dev string) ([]api.LinkInfo, error) {
	var res []api.LinkInfo
	return res, c.post(ctx, api.PathNetShow, api.NetShowRequest{Dev: dev}, &res)
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

// Peek returns the next value of a queue or stack.
func (c *Client) Peek(ctx context.Context, r api.Ref) ([]byte, error) {
	return c.queueValue(ctx, api.PathMapPeek, r)
}

// Pop removes and returns the next value of a queue or stack.
func (c *Client) Pop(ctx context.Context, r api.Ref) ([]byte, error) {
	return c.queueValue(ctx, api.PathMapPop, r)
}

func (c *Client) queueValue(ctx context.Context, path string, r api.Ref) ([]byte, error) {
	var res api.MapResult
	if err := c.post(ctx, path, api.MapRequest{Map: r}, &res); err != nil {
		return nil, err
	}
	if len(res.Entries) != 1 {
		return nil, fmt.Errorf("daemon's answer has %d entries, want 1", len(res.Entries))
	}
	return res.Entries[0].Value, nil
}

// Push adds a value to a queue or stack; flags 2 (exist) drops the oldest
// value of a full one.
func (c *Client) Push(ctx context.Context, r api.Ref, value []byte, flags uint64) error {
	return c.post(ctx, api.PathMapPush, api.MapRequest{Map: r, Value: value, Flags: flags}, nil)
}
