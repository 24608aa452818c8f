package daemon

import (
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// canonicalCalls answers in the API's terms the requests that
// http.ServeMux would answer itself, in HTML or plain text: a path that is
// not clean ("//v1/../v1/prog/list", which ServeMux redirects), a request
// target that is no path ("*", or CONNECT's host:port). None of them names
// a call: they get the JSON 404 of an unknown path.
func canonicalCalls(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; r.Method == http.MethodConnect || !strings.HasPrefix(p, "/") || cleanPath(p) != p {
			writeError(w, http.StatusNotFound, api.Error{Code: api.CodeInvalid, Message: fmt.Sprintf("no such call %q (this daemon speaks API %s)", r.RequestURI, api.Version)})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// cleanPath is p as ServeMux routes it (path.Clean, keeping a trailing
// slash), which redirects any other spelling of it.
func cleanPath(p string) string {
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}

// writeDecodeError answers a request whose body did not decode: E2BIG
// (as Linux answers a bpf() attribute beyond its size) when it is over
// the call's limit, EINVAL when it is not JSON of the call's shape.
func writeDecodeError(w http.ResponseWriter, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeError(w, statusOf(api.CodeTooBig), api.Error{Code: api.CodeTooBig, Message: fmt.Sprintf("request body over the call's limit of %d bytes", tooBig.Limit)})
		return
	}
	writeError(w, http.StatusBadRequest, api.Error{Code: api.CodeInvalid, Message: "malformed request: " + err.Error()})
}
