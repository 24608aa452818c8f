package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// Peer is the credentials of a client, from SO_PEERCRED.
type Peer struct {
	PID      int32
	UID, GID uint32
}

// Authorizer decides whether a peer may use the daemon; a nil error
// admits it.
type Authorizer func(Peer) error

// Server serves a Daemon's control API on a Unix socket.
type Server struct {
	d       *Daemon
	auth    Authorizer
	log     *slog.Logger
	handler http.Handler
	tracker connTracker // conn.go

	// Limits bounds the clients' connections; NewServer sets
	// DefaultConnLimits. Change it before Serve.
	Limits ConnLimits

	// streams ends the event pipes at Shutdown, which would otherwise
	// wait for their clients.
	streams     context.Context
	stopStreams context.CancelFunc

	// bodies is the budget of request bodies being read (bodylimits.go).
	bodies bodyBudget
}

type peerKey struct{}

// NewServer returns a server for d that admits the peers auth admits (nil
// admits everyone: for tests).
func NewServer(d *Daemon, auth Authorizer) *Server {
	s := &Server{d: d, auth: auth, log: d.log, Limits: DefaultConnLimits}
	s.streams, s.stopStreams = context.WithCancel(context.Background())
	mux := http.NewServeMux()
	handle(mux, api.PathVersion, s, func(ctx context.Context, _ struct{}) (any, error) {
		return api.VersionInfo{API: api.Version, Engine: d.Engine(), PID: os.Getpid()}, nil
	})
	handle(mux, api.PathProgLoad, s, func(ctx context.Context, r api.LoadRequest) (any, error) { return d.Load(ctx, r) })
	handle(mux, api.PathProgList, s, func(ctx context.Context, _ struct{}) (any, error) { return d.Programs(), nil })
	handle(mux, api.PathProgGet, s, func(ctx context.Context, r api.ProgRequest) (any, error) { return d.Program(r.Prog) })
	handle(mux, api.PathProgDump, s, func(ctx context.Context, r api.ProgRequest) (any, error) { return d.Xlated(r.Prog) })
	handle(mux, api.PathProgRun, s, func(ctx context.Context, r api.RunRequest) (any, error) { return d.Run(ctx, r) })
	handle(mux, api.PathProgPin, s, func(ctx context.Context, r api.PinRequest) (any, error) {
		return struct{}{}, d.Pin(r.Ref, r.Path, true)
	})
	handle(mux, api.PathMapList, s, func(ctx context.Context, _ struct{}) (any, error) { return d.Maps(), nil })
	handle(mux, api.PathMapGet, s, func(ctx context.Context, r api.MapRequest) (any, error) { return d.Map(r.Map) })
	handle(mux, api.PathMapLookup, s, func(ctx context.Context, r api.MapRequest) (any, error) { return d.Lookup(r) })
	handle(mux, api.PathMapUpdate, s, func(ctx context.Context, r api.MapRequest) (any, error) { return struct{}{}, d.Update(r) })
	handle(mux, api.PathMapDelete, s, func(ctx context.Context, r api.MapRequest) (any, error) { return struct{}{}, d.Delete(r) })
	handle(mux, api.PathMapNextKey, s, func(ctx context.Context, r api.MapRequest) (any, error) { return d.NextKey(r) })
	handle(mux, api.PathMapDump, s, func(ctx context.Context, r api.MapRequest) (any, error) { return d.Dump(r) })
	handle(mux, api.PathMapFreeze, s, func(ctx context.Context, r api.MapRequest) (any, error) { return struct{}{}, d.Freeze(r.Map) })
	handle(mux, api.PathMapPin, s, func(ctx context.Context, r api.PinRequest) (any, error) {
		return struct{}{}, d.Pin(r.Ref, r.Path, false)
	})
	handle(mux, api.PathMapCreate, s, func(ctx context.Context, r api.MapCreateRequest) (any, error) { return d.CreateMap(ctx, r) })
	handle(mux, api.PathUnpin, s, func(ctx context.Context, r api.UnpinRequest) (any, error) { return struct{}{}, d.Unpin(r.Path) })
	mux.HandleFunc(api.PathMapEventPipe, s.eventPipe)
	addLinkCalls(mux, s)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, api.Error{Code: api.CodeInvalid, Message: fmt.Sprintf("no such call %s (this daemon speaks API %s)", r.URL.Path, api.Version)})
	})
	s.handler = s.authorize(canonicalCalls(mux)) // route.go
	s.tracker.listeners = map[net.Listener]bool{}
	s.tracker.conns = map[net.Conn]*connState{}
	s.tracker.perUID = map[uint32]int{}
	return s
}

// authorize refuses requests of peers the Authorizer does not admit.
func (s *Server) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.auth != nil {
			var err error
			switch v := r.Context().Value(peerKey{}).(type) {
			case Peer:
				err = s.auth(v)
			case error:
				err = fmt.Errorf("cannot read the peer's credentials: %w", v)
			default:
				err = errors.New("no peer credentials")
			}
			if err != nil {
				s.log.Warn("refused a peer", "err", err)
				// Its connection ends with the answer: a refused
				// peer holds none of the daemon's descriptors.
				w.Header().Set("Connection", "close")
				writeError(w, http.StatusForbidden, api.Error{Code: api.CodePerm, Message: err.Error()})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// handle registers a JSON call: the body decodes into Req (strictly: an
// unknown field is an error), the result encodes as the response.
func handle[Req any](mux *http.ServeMux, path string, s *Server, f func(context.Context, Req) (any, error)) {
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if r.Method == http.MethodPost {
			limit := s.bodyLimit(path)
			release, ok := s.admitBody(w, r, limit) // bodylimits.go
			if !ok {
				return
			}
			// The decoded request lives until f returns: so does its
			// charge.
			defer release()
			dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&req); err != nil {
				writeDecodeError(w, err) // route.go
				return
			}
		} else if r.Method != http.MethodGet {
			writeError(w, http.StatusMethodNotAllowed, api.Error{Code: api.CodeInvalid, Message: "use POST or GET"})
			return
		}
		res, err := f(r.Context(), req)
		if err != nil {
			writeError(w, statusOf(CodeOf(err)), api.Error{Code: CodeOf(err), Message: err.Error()})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(res)
	})
}

func statusOf(code string) int {
	switch code {
	case api.CodeNotFound:
		return http.StatusNotFound
	case api.CodeExists:
		return http.StatusConflict
	case api.CodePerm:
		return http.StatusForbidden
	case api.CodeBusy:
		return http.StatusConflict
	case api.CodeAgain:
		return http.StatusServiceUnavailable
	case api.CodeInternal:
		return http.StatusInternalServerError
	case api.CodeRejected, api.CodeTooBig, api.CodeNotSupp:
		return http.StatusUnprocessableEntity
	}
	return http.StatusBadRequest
}

func writeError(w http.ResponseWriter, status int, e api.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(e)
}

// eventPipe streams a ring buffer's records, one JSON line each, flushed
// as they come, until the client goes.
func (s *Server) eventPipe(w http.ResponseWriter, r *http.Request) {
	var req api.MapRequest
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, api.Error{Code: api.CodeInvalid, Message: "use POST"})
		return
	}
	if _, ok := s.admitBody(w, r, smallBody); !ok {
		return
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, smallBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeDecodeError(w, err) // route.go
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(s.streams, cancel)()
	stream, err := s.d.EventPipe(ctx, req.Map)
	if err != nil {
		writeError(w, statusOf(CodeOf(err)), api.Error{Code: CodeOf(err), Message: err.Error()})
		return
	}
	defer stream.Close()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	rc.Flush()
	enc := json.NewEncoder(w)
	for {
		ev, err := stream.Next()
		if err != nil {
			if !errStreamEnd(err) {
				s.log.Warn("event pipe", "err", err)
			}
			return
		}
		if enc.Encode(ev) != nil || rc.Flush() != nil {
			return
		}
	}
}
