package daemon

import (
	"context"
	"net/http"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// addLinkCalls registers the net and link calls (links.go) and prog dump
// jited (jited.go) and the queue calls (queue.go).
func addLinkCalls(mux *http.ServeMux, s *Server) {
	d := s.d
	handle(mux, api.PathNetAttach, s, func(ctx context.Context, r api.NetAttachRequest) (any, error) { return d.AttachXDP(r) })
	handle(mux, api.PathNetDetach, s, func(ctx context.Context, r api.NetDetachRequest) (any, error) {
		return struct{}{}, d.NetDetach(r)
	})
	handle(mux, api.PathNetShow, s, func(ctx context.Context, r api.NetShowRequest) (any, error) { return d.NetShow(r.Dev) })
	handle(mux, api.PathLinkList, s, func(ctx context.Context, _ struct{}) (any, error) { return d.Links(), nil })
	handle(mux, api.PathLinkGet, s, func(ctx context.Context, r api.LinkRequest) (any, error) { return d.Link(r.Link) })
	handle(mux, api.PathLinkPin, s, func(ctx context.Context, r api.PinRequest) (any, error) {
		return struct{}{}, d.PinLink(r.Ref, r.Path)
	})
	handle(mux, api.PathProgJited, s, func(ctx context.Context, r api.ProgRequest) (any, error) { return d.Jited(r.Prog) })
	handle(mux, api.PathMapPeek, s, func(ctx context.Context, r api.MapRequest) (any, error) {
		v, err := d.Peek(r.Map)
		return api.MapResult{Entries: []api.Entry{{Value: v}}}, err
	})
	handle(mux, api.PathMapPop, s, func(ctx context.Context, r api.MapRequest) (any, error) {
		v, err := d.Pop(r.Map)
		return api.MapResult{Entries: []api.Entry{{Value: v}}}, err
	})
	handle(mux, api.PathMapPush, s, func(ctx context.Context, r api.MapRequest) (any, error) { return struct{}{}, d.Push(r) })
	handle(mux, api.PathLinkDetach, s, func(ctx context.Context, r api.LinkRequest) (any, error) {
		return struct{}{}, d.DetachLink(r.Link)
	})
}
